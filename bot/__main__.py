"""``python -m bot``: the operator's command line (see ``bot/cli.py``)."""

from bot.cli import main

raise SystemExit(main())
