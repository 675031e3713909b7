"""The owner teaches the bot from their phone: a document sent to their own chat ("Message
yourself") with the caption `aprende` / `learn` is added to the tenant's knowledge and the
result confirmed in that chat in one line. The frame is the one the Node bridge sends
(FakeBridge.send_own_document: kind `document`, caption as `text`, `media` with mime,
data_base64 and file_name); customers' documents never carry bytes.
"""

from __future__ import annotations

import pytest

from core.events import AlertKind
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT, OWNER_CHAT, OWNER_PHONE

MENU = b"%PDF-1.4 empanadas de pino: $2.500"


def texts(bridge, chat):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


@pytest.fixture
async def bridge(rig):
    await rig.add_tenant()
    return await rig.connect()


async def owner_sends(rig, bridge, name, data, caption):
    mid = await bridge.send_own_document(name, data, caption)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    return mid


def knowledge_alerts(rig):
    return [(a.tenant, a.detail) for a in rig.alerts if a.kind is AlertKind.KNOWLEDGE_FAILED]


@pytest.mark.parametrize("caption", ["aprende", "Aprendé", "  APRENDE ", "learn"])
async def test_aprende_learns_the_document_and_confirms_in_the_own_chat(rig, bridge, caption):
    await owner_sends(rig, bridge, "menu.pdf", MENU, caption)
    assert texts(bridge, OWNER_CHAT) == ["Listo: aprendí menu.pdf."]
    [file] = (await rig.knowledge.view("panaderia")).files
    assert (file.name, file.size, file.state) == ("menu.pdf", len(MENU), "ready")
    assert rig.openai.files.files[file.file_id].data == MENU
    # From now on the customers' answers search it.
    mid = await bridge.send_message(CUSTOMER, "¿cuánto cuestan las empanadas?")
    await bridge.wait_for_ack(mid)
    await rig.idle()
    assert any(tool.get("type") == "file_search" for tool in rig.openai.last_request.tools)
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: ¿cuánto cuestan las empanadas?"]


async def test_a_type_file_search_cannot_read_gets_one_line_naming_the_types_that_work(rig, bridge):
    await owner_sends(rig, bridge, "precios.xlsx", b"PK\x03\x04", "aprende")
    [line] = texts(bridge, OWNER_CHAT)
    assert line.startswith("No puedo aprender precios.xlsx: ese tipo de archivo no sirve. Sirven PDF")
    assert "\n" not in line
    assert rig.openai.files.files == {} and rig.openai.files.stores == {}
    assert knowledge_alerts(rig) == []  # the owner can fix it alone


async def test_a_document_openai_cannot_process_is_reported_and_the_bot_keeps_answering(rig, bridge):
    rig.openai.files.fail_processing("escaneo.pdf", "invalid_file", "The file could not be parsed.")
    await owner_sends(rig, bridge, "escaneo.pdf", b"%PDF broken", "aprende")
    assert texts(bridge, OWNER_CHAT) == [
        "No pude aprender escaneo.pdf: OpenAI no pudo leerlo (The file could not be parsed.)."]
    assert knowledge_alerts(rig) == [("panaderia", {"file": "escaneo.pdf", "code": "rejected",
                                                    "reason": "The file could not be parsed."})]
    mid = await bridge.send_message(CUSTOMER, "hola")
    await bridge.wait_for_ack(mid)
    await rig.idle()
    assert texts(bridge, CUSTOMER_CHAT) == ["Respuesta a: hola"]
    assert not any(tool.get("type") == "file_search" for tool in rig.openai.last_request.tools)


@pytest.mark.parametrize(("kind", "code", "line"), [
    ("401", "bad_key", "No pude aprender menu.pdf: OpenAI rechazó la clave de la cuenta. Ya avisé al administrador."),
    ("429_quota", "quota", "No pude aprender menu.pdf: la cuenta de OpenAI no tiene saldo. Ya avisé al administrador."),
])
async def test_a_bad_key_or_no_quota_alerts_the_operators_once(rig, bridge, kind, code, line):
    rig.openai.files.fail_next(kind)
    await owner_sends(rig, bridge, "menu.pdf", MENU, "aprende")
    assert texts(bridge, OWNER_CHAT) == [line]
    assert [detail["code"] for _, detail in knowledge_alerts(rig)] == [code]
    assert (await rig.knowledge.view("panaderia")).files == []


async def test_openai_out_of_reach_is_one_line_and_no_alert(rig, bridge):
    rig.openai.files.fail_next("500")
    await owner_sends(rig, bridge, "menu.pdf", MENU, "aprende")
    assert texts(bridge, OWNER_CHAT) == [
        "No pude aprender menu.pdf: OpenAI no responde ahora. Inténtalo de nuevo en unos minutos."]
    assert knowledge_alerts(rig) == []


async def test_a_document_too_large_for_whatsapp_is_refused_in_one_line(rig, bridge):
    # The bridge leaves out the bytes of a document past its media limit (14 MiB).
    mid = await bridge.send_message(OWNER_PHONE, "aprende", from_me=True, kind="document", media_omitted="too_large")
    await bridge.wait_for_ack(mid)
    await rig.idle()
    assert texts(bridge, OWNER_CHAT) == [
        "No puedo aprender el documento: pesa más de 14 MB, lo máximo que llega por WhatsApp."]
    assert rig.openai.files.files == {}


async def test_the_word_alone_explains_how(rig, bridge):
    mid = await bridge.send_message(OWNER_PHONE, "aprende", from_me=True)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    assert texts(bridge, OWNER_CHAT) == [
        "Para que el bot aprenda un documento, envíalo a este chat con la descripción «aprende»."]


async def test_a_document_without_the_caption_is_not_learned(rig, bridge):
    await owner_sends(rig, bridge, "menu.pdf", MENU, "el menú nuevo")
    await owner_sends(rig, bridge, "menu.pdf", MENU, None)
    assert texts(bridge, OWNER_CHAT) == [] and rig.openai.files.files == {}


async def test_aprende_in_a_customer_chat_is_an_ordinary_message(rig, bridge):
    mid = await bridge.send_message(CUSTOMER, "aprende", from_me=True)
    await bridge.wait_for_ack(mid)
    await rig.idle()
    assert texts(bridge, OWNER_CHAT) == [] and bridge.deletes == []
    chat = await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)
    assert chat is not None and chat.paused  # the owner wrote in the chat: a handoff, as for any message


async def test_a_customers_document_is_never_learned(rig, bridge):
    mid = await bridge.send_message(CUSTOMER, "aprende", kind="document")
    await bridge.wait_for_ack(mid)
    await rig.idle()
    assert texts(bridge, OWNER_CHAT) == [] and rig.openai.files.files == {}
