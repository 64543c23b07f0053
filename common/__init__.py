"""The ground floor every layer stands on: text folding, number parsing and formatting, the
message catalogue, channel-neutral messages and the vocabulary of delivery errors. Nothing
here imports from the project's other packages, so imports only ever point down to it."""
