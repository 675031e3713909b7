"""/kb: a tenant's knowledge files from Telegram. The admin sends a document captioned
`/kb <slug>` (or taps ➕ and sends it); the bot downloads it through the Bot API's getFile and
file path (tests/fakes/telegram_*), the real Knowledge service uploads it to the fake OpenAI's
files and vector stores (tests/fakes/openai_files.py), and the progress message is edited into
ready or OpenAI's reason for the failure. Removal, attach/detach and bad input too."""

from __future__ import annotations

from datetime import UTC, datetime

from tenants.knowledge import KnowledgeFile, open_knowledge
from tests.support.bot import STRANGER, VALID_KEY

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nMenu: empanadas 2.500, cafe 1.800\n%%EOF\n"
TYPES = ".c .cpp .cs .css .doc .docx .go .html .java .js .json .md .pdf .php .pptx .py .rb .sh .tex .ts .txt"
HOW = ("Para agregar: envíame el documento con el texto <code>/kb sol</code>, o toca ➕. Tipos: " + TYPES
       + "; hasta 20 MB.\nPara usar uno existente: <code>/kb sol attach vs_…</code>")


async def _edited_into(rig, progress, start: str):
    return await rig.wait_for(lambda m: m.message_id == progress.message_id and m.body.startswith(start), timeout=10)


async def _add(rig, name="menu.pdf", data=PDF):
    progress = await rig.send_document(data, name, "/kb sol")
    await _edited_into(rig, progress, "✅")
    return progress


async def test_kb_shows_an_empty_knowledge_and_how_to_add_a_file(rig):
    await rig.add_tenant("sol")
    view = await rig.say("/kb sol")
    assert view.body == ("📚 Conocimiento de Tienda Sol\n"
                         "Sin archivos todavía: el asistente no busca en documentos.\n\n" + HOW)
    assert view.button_texts == ["➕ Agregar archivo"]


async def test_a_document_captioned_kb_is_downloaded_uploaded_and_its_progress_edited_into_ready(rig):
    await rig.add_tenant("sol")
    progress = await rig.send_document(PDF, "menu.pdf", "/kb sol")
    ready = await _edited_into(rig, progress, "✅")
    assert ready.body == "✅ menu.pdf listo: el asistente de Tienda Sol ya lo usa."
    assert [edit.text for edit in ready.edits] == [
        "⏳ Recibiendo menu.pdf para Tienda Sol…",
        "⏳ menu.pdf subido a OpenAI para Tienda Sol; lo está procesando…"]
    # Downloaded through getFile and the Bot API's file path, not read from the update.
    assert rig.telegram.downloads == ["documents/file_0.pdf"]
    store = rig.openai.files.store_named("puente-sol")
    (uploaded,) = [entry.file for entry in store.files.values()]
    assert (uploaded.filename, uploaded.data, uploaded.purpose) == ("menu.pdf", PDF, "assistants")
    view = await rig.say("/kb sol")
    assert view.body.splitlines()[:4] == [
        "📚 Conocimiento de Tienda Sol", f"Vector store: <code>{store.id}</code>", "Archivos (1/100):",
        f"1. menu.pdf · {len(PDF)} B · ✅ listo"]
    assert view.button_texts == ["🗑 menu.pdf", "➕ Agregar archivo"]
    assert await rig.knowledge.vector_store_ids("sol") == [store.id]


async def test_add_button_then_the_document(rig):
    await rig.add_tenant("sol")
    view = await rig.say("/kb sol", lang="en")
    ask = await rig.tap(view, "➕ Add a file")
    assert ask.body == f"Send the document for Tienda Sol now ({TYPES}; up to 20 MB), or /cancel."
    progress = await rig.send_document(b"Horario: lunes a viernes 9 a 18", "horario.txt", lang="en",
                                       mime_type="text/plain")
    ready = await _edited_into(rig, progress, "✅")
    assert ready.body == "✅ horario.txt ready: Tienda Sol's assistant uses it now."
    assert [f.name for f in (await rig.knowledge.view("sol")).files] == ["horario.txt"]
    # The step is over: the next document without a caption only gets the hint.
    hint = await rig.send_document(PDF, "otro.pdf", lang="en")
    assert hint.body == "To add it to a tenant's knowledge, send it with the caption <code>/kb &lt;slug&gt;</code>."
    assert len((await rig.knowledge.view("sol")).files) == 1


async def test_a_processing_failure_shows_openais_reason(rig):
    await rig.add_tenant("sol")
    rig.openai.files.fail_processing("escaneo.pdf", "unsupported_file", "The file contains no text to index.")
    progress = await rig.send_document(PDF, "escaneo.pdf", "/kb sol")
    failed = await _edited_into(rig, progress, "❌")
    assert failed.body == "❌ OpenAI no pudo procesar escaneo.pdf: The file contains no text to index."
    view = await rig.say("/kb sol")
    assert f"1. escaneo.pdf · {len(PDF)} B · ❌ falló: The file contains no text to index." in view.body.splitlines()
    assert await rig.knowledge.vector_store_ids("sol") == []  # nothing ready: no file_search tool


async def test_a_file_openai_refuses_or_a_bad_key_is_one_line(rig):
    await rig.add_tenant("sol")
    rig.openai.files.reject_upload("menu.pdf", "Invalid file format. Supported formats: ...")
    progress = await rig.send_document(PDF, "menu.pdf", "/kb sol")
    refused = await _edited_into(rig, progress, "❌")
    assert refused.body == "❌ OpenAI rechazó menu.pdf: Invalid file format. Supported formats: ..."
    rig.openai.files.fail_next("401")
    progress = await rig.send_document(PDF, "precios.pdf", "/kb sol")
    refused = await _edited_into(rig, progress, "🔑")
    assert refused.body == "🔑 OpenAI rechazó la clave de Tienda Sol; no cambié nada. Cámbiala con /key sol."
    assert VALID_KEY not in refused.body
    assert (await rig.knowledge.view("sol")).files == []


async def test_types_file_search_does_not_take_and_files_over_20_mb_are_refused_before_downloading(rig):
    await rig.add_tenant("sol")
    photo = await rig.send_document(b"\xff\xd8\xff\xe0 jpeg", "foto.jpg", "/kb sol", mime_type="image/jpeg")
    assert photo.body == f"❌ foto.jpg: ese tipo no sirve para la búsqueda de OpenAI. Sirven: {TYPES}. No subí nada."
    # Telegram says the size in the update; getFile would refuse over 20 MB ("file is too big").
    big = await rig.send_document(PDF, "catalogo.pdf", "/kb sol", lang="en", file_size=25 * 1024 * 1024)
    assert big.body == ("❌ catalogo.pdf is 25.0 MB; the limit is 20 MB (what Telegram lets a bot download). "
                        "Nothing uploaded.")
    assert rig.telegram.calls("getFile") == [] and rig.telegram.downloads == []
    assert rig.openai.files.files == {} and rig.openai.files.stores == {}


async def test_at_most_100_files(rig):
    await rig.add_tenant("sol")
    repo = open_knowledge(rig.store.db)
    for number in range(100):  # recorded straight in the store: 100 uploads would only be slower
        await repo.add_file("sol", KnowledgeFile(f"file-{number:022d}", f"lista de precios sucursal {number:03d} "
                                                 "temporada verano.pdf", 2048, "ready", None,
                                                 datetime(2026, 12, 1, tzinfo=UTC)))
    refused = await rig.send_document(PDF, "menu.pdf", "/kb sol")
    refused = await _edited_into(rig, refused, "❌")
    assert refused.body == "❌ Tienda Sol ya tiene 100 archivos, el máximo. Quita alguno con /kb sol; no subí nada."
    assert rig.openai.files.files == {}
    view = await rig.say("/kb sol")  # 20 files a page, within Telegram's 4,096 characters
    lines = view.body.splitlines()
    assert lines[1] == "Archivos (100/100), página 1/5:" and view.body.endswith(HOW)
    assert lines[2] == "1. lista de precios sucursal 000 temporada… · 2 KB · ✅ listo"
    assert view.button_texts[0] == "🗑 lista de precios sucursal 000 temporada…"
    assert view.button_texts[-2:] == ["▶️", "➕ Agregar archivo"] and len(view.button_texts) == 22
    await rig.tap(view, "▶️")
    assert view.body.splitlines()[1:3] == ["Archivos (100/100), página 2/5:",
                                           "21. lista de precios sucursal 020 temporada… · 2 KB · ✅ listo"]
    assert view.button_texts[-3:] == ["◀️", "▶️", "➕ Agregar archivo"]


async def test_remove_asks_then_removes_at_openai_and_edits_the_view(rig):
    await rig.add_tenant("sol")
    await _add(rig)
    file_id = (await rig.knowledge.view("sol")).files[0].file_id
    view = await rig.say("/kb sol")
    question = await rig.tap(view, "🗑 menu.pdf")
    assert question is view
    assert view.body == "¿Quitar menu.pdf del conocimiento de Tienda Sol? También se borra en OpenAI."
    await rig.tap(view, "✖️ Cancelar")
    assert view.button_texts == ["🗑 menu.pdf", "➕ Agregar archivo"]  # back, nothing removed
    await rig.tap(view, "🗑 menu.pdf")
    await rig.tap(view, "✅ Confirmar")
    assert view.body.startswith("🗑 menu.pdf quitado.\n\n📚 Conocimiento de Tienda Sol\n")
    assert "Sin archivos todavía" in view.body and view.button_texts == ["➕ Agregar archivo"]
    assert rig.openai.files.deleted_files == [file_id]
    assert rig.openai.files.store_named("puente-sol").files == {}


async def test_attach_and_detach_an_existing_vector_store(rig):
    await rig.add_tenant("sol")
    old = rig.openai.files.add_store(VALID_KEY, "asistente antiguo", {"faq.txt": b"Preguntas frecuentes"})
    attached = await rig.say(f"/kb sol attach {old.id}")
    assert attached.body == f"📎 <code>{old.id}</code> adjunto a Tienda Sol: el asistente también busca ahí."
    view = await rig.say("/kb sol")
    assert f"Vector stores adjuntos: <code>{old.id}</code>" in view.body.splitlines()
    assert await rig.knowledge.vector_store_ids("sol") == [old.id]
    detached = await rig.say(f"/kb sol detach {old.id}", lang="en")
    assert detached.body == f"📎 <code>{old.id}</code> is no longer part of Tienda Sol (it stays at OpenAI)."
    assert await rig.knowledge.vector_store_ids("sol") == []
    assert old.id in rig.openai.files.stores  # never deleted at OpenAI


async def test_bad_input_gets_one_line_and_changes_nothing(rig):
    await rig.add_tenant("sol")
    form = ("Forma correcta: <code>/kb &lt;slug&gt;  or  /kb &lt;slug&gt; attach vs_…  "
            "or  /kb &lt;slug&gt; detach vs_…</code>")
    answers = {
        "/kb nadie": "No hay un cliente «nadie». Mira /tenants.\n" + form,
        "/kb sol borrar vs_abc": form,
        "/kb sol attach menu": "❌ «menu» no es un id de vector store (se ven así: vs_abc123); no cambié nada.",
        "/kb sol attach vs_noexiste": "❌ OpenAI no tiene «vs_noexiste» en el proyecto de Tienda Sol; no cambié nada.",
        "/kb sol detach vs_abc": "❌ vs_abc no está adjunto a Tienda Sol; no cambié nada.",
    }
    for command, answer in answers.items():
        assert (await rig.say(command)).body == answer
    refused = await rig.send_document(PDF, "menu.pdf", "/kb nadie")
    assert refused.body == "No hay un cliente «nadie». Mira /tenants.\n" + form
    view = await rig.knowledge.view("sol")
    assert (view.files, view.attached) == ([], [])
    assert rig.openai.files.files == {} and rig.telegram.downloads == []


async def test_a_stranger_cannot_add_knowledge(rig):
    await rig.add_tenant("sol")
    refusal = await rig.send_document(PDF, "menu.pdf", "/kb sol", user=STRANGER)
    assert refusal.body == "Este bot es privado."
    assert rig.telegram.calls("getFile") == [] and rig.openai.files.files == {}


async def test_a_store_deleted_at_openai_is_reported_and_the_next_file_makes_a_new_one(rig):
    await rig.add_tenant("sol")
    await _add(rig)
    old = rig.openai.files.store_named("puente-sol")
    rig.openai.files.vanish(old.id)  # deleted in OpenAI's dashboard, behind Puente's back
    progress = await rig.send_document(PDF, "precios.pdf", "/kb sol")
    gone = await _edited_into(rig, progress, "❌")
    assert gone.body == ("❌ El vector store de Tienda Sol fue borrado en OpenAI; no subí precios.pdf. "
                         "Envíalo de nuevo y creo uno nuevo (los archivos anteriores hay que subirlos otra vez).")
    view = await rig.say("/kb sol")
    assert f"Vector store: <code>{old.id}</code> (⚠️ borrado en OpenAI, ya no se busca)" in view.body.splitlines()
    assert await rig.knowledge.vector_store_ids("sol") == []
    await _add(rig, "precios.pdf")
    new = rig.openai.files.store_named("puente-sol")
    assert new.id != old.id and await rig.knowledge.vector_store_ids("sol") == [new.id]


async def test_a_download_telegram_refuses_uploads_nothing(rig):
    await rig.add_tenant("sol")
    rig.telegram.fail_next("getFile", status=400, description="Bad Request: invalid file_id")
    progress = await rig.send_document(PDF, "menu.pdf", "/kb sol")
    failed = await _edited_into(rig, progress, "⚠️")
    assert failed.body == "⚠️ No pude descargar menu.pdf de Telegram; no subí nada. Envíalo de nuevo."
    assert rig.openai.files.files == {} and (await rig.knowledge.view("sol")).files == []


async def test_the_bot_keeps_answering_while_openai_processes_a_file(rig):
    await rig.add_tenant("sol")
    rig.openai.files.processing_polls = 100  # about two seconds of in_progress at 0.02 s a poll
    progress = await rig.send_document(PDF, "menu.pdf", "/kb sol")
    await _edited_into(rig, progress, "⏳ menu.pdf subido")
    view = await rig.say("/kb sol")
    assert f"1. menu.pdf · {len(PDF)} B · ⏳ procesando" in view.body.splitlines()
    assert await rig.knowledge.vector_store_ids("sol") == []  # not searched before it is ready
    ready = await _edited_into(rig, progress, "✅")
    assert ready.body == "✅ menu.pdf listo: el asistente de Tienda Sol ya lo usa."
