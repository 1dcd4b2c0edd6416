"""``whop-dm reactions``: react to a message, or vote in its poll."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["register"]


def register(cli: click.Group) -> None:
    """Add the ``reactions`` commands to ``cli``.

    Called by ``_commands`` once its shared helpers exist; importing them here,
    not at the top, lets either module be imported first.
    """
    from whop_dm._cli._commands import Settings, _api_options, _client, _execute
    from whop_dm._cli._output import EXIT_OK, Output, escape, unstructure

    @cli.group()
    def reactions() -> None:
        """Reactions on messages: add one (an emoji, or a poll vote)."""

    @reactions.command("add")
    @click.option("--message", "message_id", metavar="ID", required=True, help="The message.")
    @click.argument("emoji", required=False)
    @click.option(
        "--vote",
        "poll_option_id",
        metavar="OPTION",
        help="Vote for this option of the message's poll (1, 2, ...) instead of an emoji.",
    )
    @_api_options
    def reactions_add(
        message_id: str, emoji: str | None, poll_option_id: str | None, **options: Any
    ) -> None:
        """React to a message with EMOJI (e.g. :heart:), or vote in its poll with --vote."""
        settings = Settings(**options)
        if (emoji is None) == (poll_option_id is None):
            raise click.UsageError("give an EMOJI or --vote OPTION (one of them)")

        async def work(output: Output) -> int:
            async with _client(settings) as client:
                reaction = await client.reactions.create(
                    resource_id=message_id, emoji=emoji, poll_option_id=poll_option_id
                )
            if output.json_mode:
                output.emit_json(unstructure(reaction))
            else:
                what = f"reacted {reaction.emoji}" if reaction.emoji else f"voted {poll_option_id}"
                output.say(escape(f"{what} on {reaction.resource_id}: {reaction.id}"))
            return EXIT_OK

        _execute(settings, work)
