"""Owner command words: whole message, any case, with or without accents, both languages."""

from __future__ import annotations

import pytest

from relay.pipeline.commands import Command, parse_command


@pytest.mark.parametrize(("text", "command"), [
    ("pausar", Command.PAUSE), (" Pause ", Command.PAUSE), ("reactivar", Command.RESUME),
    ("Reactivár", Command.RESUME), ("resume", Command.RESUME), ("pausar  todo", Command.PAUSE_ALL),
    ("PAUSE ALL", Command.PAUSE_ALL), ("activar todo", Command.RESUME_ALL), ("resume all", Command.RESUME_ALL),
    ("suspender bot", Command.SUSPEND), ("Suspend bot", Command.SUSPEND), ("Activar Bot", Command.ACTIVATE),
    ("activate bot", Command.ACTIVATE), ("Estado", Command.STATUS), ("status", Command.STATUS),
    ("estádo", Command.STATUS),
])
def test_command_words_are_recognised(text, command):
    assert parse_command(text) is command


@pytest.mark.parametrize("text", ["pausar ya", "¿estado?", "por favor pausar", "", None, "activar"])
def test_anything_else_is_an_ordinary_message(text):
    assert parse_command(text) is None


@pytest.mark.parametrize(("text", "command"), [
    ("cerrado", Command.CLOSE), ("Closed", Command.CLOSE), (" CERRADO ", Command.CLOSE),
    ("abierto", Command.OPEN), ("Abiérto", Command.OPEN), ("open", Command.OPEN),
])
def test_closed_and_open_are_owner_commands(text, command):
    assert parse_command(text) is command
