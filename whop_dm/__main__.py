"""``python -m whop_dm``: the ``whop-dm`` command."""

from whop_dm._cli import main

main()
