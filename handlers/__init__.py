"""The conversation core: channel-neutral messages, router, dialogs and forms."""
