"""The tenant's assistant searches its knowledge: the Responses calls carry the file_search
tool once a file is ready (and only then), the customer gets a clean reply, and a store
deleted at OpenAI is noticed once and answered around.

Shapes: openai-openapi f85dbe2 FileSearchTool (`type`, `vector_store_ids` required),
FileSearchToolCall (the `file_search_call` output item) and FileCitationBody (the
`file_citation` annotation: file_id, filename, index); models also write citation markers
like `【4:0†menu.pdf】` into the text (the Assistants API's format), which never reach WhatsApp.
"""

from __future__ import annotations

from core.events import AlertKind
from relay.assistant import HANDOFF_TOOL
from tests.support.pipeline import CUSTOMER, CUSTOMER_CHAT

MENU = b"%PDF-1.4 empanadas de pino: $2.500"


def texts(bridge, chat=CUSTOMER_CHAT):
    return [s["text"] for s in bridge.sent if s["chat"] == chat]


def file_search(request) -> dict | None:
    return next((tool for tool in request.tools if tool.get("type") == "file_search"), None)


async def customer_says(rig, bridge, text):
    mid = await bridge.send_message(CUSTOMER, text)
    await bridge.wait_for_ack(mid)
    await rig.idle()


async def ready_menu(rig, slug="panaderia"):
    added = await rig.knowledge.add(slug, "menu.pdf", MENU)
    return await rig.knowledge.wait_processed(slug, added.file_id)


async def test_a_tenant_without_knowledge_sends_no_file_search(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    await customer_says(rig, bridge, "hola")
    assert rig.openai.last_request.tools == [HANDOFF_TOOL]
    assert texts(bridge) == ["Respuesta a: hola"]


async def test_no_tool_while_the_only_file_is_processing_or_failed(rig):
    await rig.add_tenant(ai_handoff=False)
    bridge = await rig.connect()
    rig.openai.files.fail_processing("escaneo.pdf", "invalid_file", "The file could not be parsed.")
    failed = await rig.knowledge.add("panaderia", "escaneo.pdf", b"%PDF ???")
    assert (await rig.knowledge.wait_processed("panaderia", failed.file_id)).state == "failed"
    rig.openai.files.processing_polls = 10_000
    await rig.knowledge.add("panaderia", "lento.pdf", MENU)
    await customer_says(rig, bridge, "hola")
    assert rig.openai.last_request.tools == []
    assert texts(bridge) == ["Respuesta a: hola"]


async def test_a_ready_file_adds_file_search_beside_the_handoff_and_the_reply_is_clean(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    menu = await ready_menu(rig)
    store = (await rig.knowledge.view("panaderia")).vector_store_id

    def cites_the_menu(request):  # as a model answering from file search writes it
        return (f"Las empanadas de pino cuestan $2.500 【4:0†menu.pdf】.\nTambién hay de queso [4:1†source] "
                f"(ver {menu.file_id}). ¡Te esperamos!")
    rig.openai.reply = cites_the_menu
    await customer_says(rig, bridge, "¿cuánto cuestan las empanadas?")

    request = rig.openai.last_request
    assert HANDOFF_TOOL in request.tools
    assert file_search(request) == {"type": "file_search", "vector_store_ids": [store]}
    # The real response carried a file_search_call and file_citation annotations naming the file.
    conversation = rig.openai.conversations[request.conversation]
    assert [item["type"] for item in conversation[-2:]] == ["file_search_call", "message"]
    annotations = conversation[-1]["content"][0]["annotations"]
    assert [(a["type"], a["file_id"], a["filename"]) for a in annotations] == [("file_citation", menu.file_id, "menu.pdf")]
    assert texts(bridge) == ["Las empanadas de pino cuestan $2.500.\nTambién hay de queso (ver). ¡Te esperamos!"]
    assert "file-" not in texts(bridge)[0] and "†" not in texts(bridge)[0]


async def test_an_attached_store_is_searched_without_own_files(rig):
    await rig.add_tenant(ai_handoff=False)
    bridge = await rig.connect()
    old = rig.openai.files.add_store("sk-test-panaderia-0000000001", "asistente anterior", {"faq.md": b"# FAQ"})
    await rig.knowledge.attach("panaderia", old.id)
    await customer_says(rig, bridge, "hola")
    assert rig.openai.last_request.tools == [{"type": "file_search", "vector_store_ids": [old.id]}]
    await rig.knowledge.detach("panaderia", old.id)
    await customer_says(rig, bridge, "chao")
    assert rig.openai.last_request.tools == []


async def test_removing_the_last_file_removes_the_tool(rig):
    await rig.add_tenant(ai_handoff=False)
    bridge = await rig.connect()
    menu = await ready_menu(rig)
    await customer_says(rig, bridge, "uno")
    assert file_search(rig.openai.last_request) is not None
    await rig.knowledge.remove("panaderia", menu.file_id)
    await customer_says(rig, bridge, "dos")
    assert rig.openai.last_request.tools == []


async def test_a_store_deleted_at_openai_is_reported_once_and_the_customer_still_answered(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    await ready_menu(rig)
    store = (await rig.knowledge.view("panaderia")).vector_store_id
    rig.openai.files.vanish(store)

    await customer_says(rig, bridge, "¿abren hoy?")
    assert texts(bridge) == ["Respuesta a: ¿abren hoy?"]
    gone = [a for a in rig.alerts if a.kind is AlertKind.KNOWLEDGE_GONE]
    assert [(a.tenant, a.detail) for a in gone] == [("panaderia", {"vector_store": store})]
    assert rig.openai.last_request.tools == [HANDOFF_TOOL]  # the handoff stays

    await customer_says(rig, bridge, "¿y mañana?")
    assert texts(bridge)[-1] == "Respuesta a: ¿y mañana?"
    assert rig.openai.last_request.tools == [HANDOFF_TOOL]
    assert len([a for a in rig.alerts if a.kind is AlertKind.KNOWLEDGE_GONE]) == 1  # not retried, not re-alerted
    assert (await rig.knowledge.view("panaderia")).gone == {store}


async def test_the_handoff_still_works_with_file_search_offered(rig):
    from tests.fakes import FunctionCall
    await rig.add_tenant()
    bridge = await rig.connect()
    await ready_menu(rig)
    rig.openai.reply = lambda request: FunctionCall("handoff_to_human", {"reason": "quiere una persona"},
                                                    text="Te paso con alguien del equipo.")
    await customer_says(rig, bridge, "quiero hablar con una persona")
    assert texts(bridge) == ["Te paso con alguien del equipo."]
    assert file_search(rig.openai.responses_created and rig.openai.last_request) is not None
    chat = await rig.pipeline.chats.get("panaderia", CUSTOMER_CHAT)
    assert chat.paused


async def test_deleting_the_tenant_deletes_its_store_and_files_at_openai(rig):
    await rig.add_tenant()
    menu = await ready_menu(rig)
    store = (await rig.knowledge.view("panaderia")).vector_store_id
    await rig.tenants.delete("panaderia", "test")
    assert menu.file_id in rig.openai.files.deleted_files and store in rig.openai.files.deleted_stores
    assert (await rig.knowledge.view("panaderia")).files == []


async def test_one_tenants_knowledge_is_never_searched_for_another(rig):
    await rig.add_tenant("panaderia", ai_handoff=False)
    await rig.add_tenant("ferreteria", key="sk-test-ferreteria-0000000002", ai_handoff=False)
    await ready_menu(rig, "panaderia")
    bakery = await rig.connect("panaderia")
    hardware = await rig.connect("ferreteria")
    await customer_says(rig, hardware, "¿tienen clavos?")
    assert rig.openai.last_request.tools == []
    await customer_says(rig, bakery, "¿tienen empanadas?")
    assert file_search(rig.openai.last_request) is not None


async def test_a_file_left_processing_by_a_restart_is_searched_after_the_hourly_cleanup(rig):
    await rig.add_tenant(ai_handoff=False)
    bridge = await rig.connect()
    rig.openai.files.processing_polls = 0
    await rig.knowledge.add("panaderia", "menu.pdf", MENU)  # nobody waited for it: Puente restarted
    await rig.restart()
    await rig.reconnect(bridge)
    await customer_says(rig, bridge, "uno")
    assert rig.openai.last_request.tools == []
    await rig.cleanup.run()
    await customer_says(rig, bridge, "dos")
    assert file_search(rig.openai.last_request) is not None
