"""``python -m whop_dm.testing --port 8080``: the fake server as its own process."""

from whop_dm.testing._serve import main

raise SystemExit(main())
