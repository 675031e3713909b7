"""What the customer reads of a file-search answer: the text without citation markers or file
ids, everything else as the model wrote it."""

from __future__ import annotations

import pytest

from relay.assistant.tools import clean_reply

FILE_ID = "file-6F2ksmvXxt4VdoqmHRw6kL"  # the shape of a real OpenAI file id


@pytest.mark.parametrize(("written", "shown"), [
    ("Cuesta $2.500 【4:0†menu.pdf】.", "Cuesta $2.500."),
    ("Cuesta $2.500【4:0†source】 y la de queso $2.300 【5:2†precios 2026.pdf】.", "Cuesta $2.500 y la de queso $2.300."),
    ("Abrimos a las 9 [4:0†source].", "Abrimos a las 9."),
    ("Abrimos a las 9 [4†horarios.txt]", "Abrimos a las 9"),
    ("Según el menú (" + FILE_ID + "), sí.", "Según el menú, sí."),
    ("Ver " + FILE_ID + " para más.", "Ver para más."),
    ("Línea uno 【1:0†a.pdf】\n\nLínea dos: [enlace] y [1] quedan.", "Línea uno\n\nLínea dos: [enlace] y [1] quedan."),
    ("Sin citas: 50% de descuento † no es cita.", "Sin citas: 50% de descuento † no es cita."),
    ("file-based no es un id", "file-based no es un id"),
])
def test_citation_markers_and_file_ids_never_reach_the_customer(written, shown):
    assert clean_reply(written) == shown
