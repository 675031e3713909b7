"""Listing, the card and the commands that change one tenant."""

from __future__ import annotations

import re

from tests.support.bot import ADMIN, BotRig
from tests.support.web_mail import MailServer


async def test_tenants_lists_ten_per_page_with_page_buttons(rig):
    for n in range(12):
        await rig.add_tenant(f"cliente-{n:02d}", f"Cliente {n:02d}")
    page = await rig.say("/tenants")
    assert "página 1/2" in page.body and page.body.count("⚪") == 10
    assert "Cliente 00" in page.body and "<code>cliente-00</code>" in page.body
    second = await rig.tap(page, "▶️")
    assert second is page and "página 2/2" in page.body and "Cliente 11" in page.body


async def test_tenant_card_shows_status_and_escaped_name_but_not_the_link(rig):
    tenant = await rig.add_tenant("tienda-sol", "<script>alert(1)</script> Sol", email="ana@sol.cl")
    card = await rig.say("/tenant tienda-sol")
    assert "&lt;script&gt;" in card.body and "<script>" not in card.body
    assert tenant.landing_token not in card.body and "/c/" not in card.body  # only its hash is stored
    assert "Enlace: solo se muestra al crearlo o reemitirlo (🔄)" in card.body
    assert "ana@sol.cl" in card.body and "gpt-4.1-mini" in card.body and "sk-…kkkk" in card.body
    assert "Mensajes hoy: 0" in card.body
    assert {"⏸ Desactivar", "📷 QR", "🔢 Código", "🔌 Desvincular", "🔄 Reemitir enlace",
            "🗑 Eliminar"} == set(card.button_texts)
    assert all(len(b["callback_data"].encode()) <= 64 for row in card.buttons for b in row)


async def test_unknown_or_missing_slug_answers_with_the_correct_form(rig):
    reply = await rig.say("/tenant nadie")
    assert "No hay un cliente «nadie»" in reply.body and "/tenant &lt;slug&gt;" in reply.body
    reply = await rig.say("/disable", lang="en")
    assert "The tenant is missing" in reply.body and "/disable &lt;slug&gt;" in reply.body


async def test_disable_and_enable_change_the_tenant(rig):
    await rig.add_tenant("tienda-sol")
    reply = await rig.say("/disable tienda-sol")
    assert "desactivado" in reply.body
    assert (await rig.tenants.get("tienda-sol")).enabled is False
    card = await rig.say("/tenant tienda-sol")
    await rig.tap(card, "▶️ Activar")
    assert (await rig.tenants.get("tienda-sol")).enabled is True


async def test_bad_email_is_refused_with_the_form_and_changes_nothing(rig):
    await rig.add_tenant("tienda-sol", email="ana@sol.cl")
    reply = await rig.say("/email tienda-sol no-es-un-mail")
    assert "nombre@empresa.cl" in reply.body and "/email &lt;slug&gt; &lt;address&gt;" in reply.body
    assert (await rig.tenants.get("tienda-sol")).email == "ana@sol.cl"
    reply = await rig.say("/email tienda-sol pedro@sol.cl")
    assert "pedro@sol.cl" in reply.body
    assert (await rig.tenants.get("tienda-sol")).email == "pedro@sol.cl"


async def test_model_command_sets_the_model(rig):
    await rig.add_tenant("tienda-sol")
    assert "gpt-4o-mini" in (await rig.say("/model tienda-sol gpt-4o-mini")).body
    assert (await rig.tenants.get("tienda-sol")).model == "gpt-4o-mini"
    assert "gpt-4.1-mini" in (await rig.say("/model tienda-sol no/vale")).body
    assert (await rig.tenants.get("tienda-sol")).model == "gpt-4o-mini"


async def test_description_command_sets_what_the_clients_page_shows(rig):
    await rig.add_tenant("tienda-sol")
    answer = await rig.say("/description tienda-sol Panes y <b>tortas</b> en Ñuñoa")
    assert "Panes y &lt;b&gt;tortas&lt;/b&gt; en Ñuñoa" in answer.body
    assert (await rig.tenants.get("tienda-sol")).description == "Panes y <b>tortas</b> en Ñuñoa"
    assert "/description &lt;slug&gt; &lt;text&gt;" in (await rig.say("/description tienda-sol")).body
    assert (await rig.tenants.get("tienda-sol")).description == "Panes y <b>tortas</b> en Ñuñoa"


async def test_delete_needs_confirm_and_cancel_keeps_the_tenant(rig):
    await rig.add_tenant("tienda-sol")
    question = await rig.say("/delete tienda-sol")
    await rig.tap(question, "✖️ Cancelar")
    assert question.body == "Cancelado." and await rig.tenants.find("tienda-sol") is not None
    question = await rig.say("/delete tienda-sol")
    await rig.tap(question, "✅ Confirmar")
    assert "eliminado" in question.body and await rig.tenants.find("tienda-sol") is None


async def test_reissue_link_from_the_card_after_confirm(rig):
    old = await rig.add_tenant("tienda-sol")
    card = await rig.say("/tenant tienda-sol")
    question = await rig.tap(card, "🔄 Reemitir enlace")
    await rig.tap(question, "✅ Confirmar")
    token = re.search(r"https://puente\.example/c/([\w-]+)", question.body).group(1)
    assert token != old.landing_token and (await rig.tenants.by_landing_token(token)).slug == "tienda-sol"
    assert await rig.tenants.by_landing_token(old.landing_token) is None


async def test_invite_without_smtp_or_email_says_why(rig):
    await rig.add_tenant("tienda-sol")
    assert "no tiene e-mail" in (await rig.say("/invite tienda-sol")).body
    await rig.tenants.set_email("tienda-sol", "ana@sol.cl", "test")
    assert "SMTP_HOST" in (await rig.say("/invite tienda-sol")).body


async def test_stats_counts_tenants_by_status(rig):
    await rig.add_tenant("uno")
    await rig.add_tenant("dos")
    await rig.tenants.set_enabled("dos", False, "test")
    reply = await rig.say("/stats", lang="en")
    assert "Tenants: 2" in reply.body and "disabled: 1" in reply.body and "stopped: 1" in reply.body
    assert "Messages today: 0" in reply.body


async def test_unknown_command_and_stray_text_point_to_help(rig):
    assert "/help" in (await rig.say("/foo")).body
    assert "/help" in (await rig.say("hola")).body
    assert len(rig.telegram.messages_in(ADMIN)) == 2


async def test_invite_reissues_the_link_and_the_email_carries_the_new_one(store, tmp_path):
    with MailServer(tmp_path) as server:
        rig = BotRig(store, tmp_path / "data", smtp_port=server.port)
        await rig.start()
        try:
            old = await rig.add_tenant("tienda-sol", email="ana@sol.cl")
            question = await rig.say("/invite tienda-sol")
            assert "¿Enviar a ana@sol.cl una invitación con un enlace nuevo?" in question.body
            await rig.tap(question, "✅ Confirmar")
            await rig.wait_for(lambda m: "Invitación enviada a ana@sol.cl" in (m.body or ""))
        finally:
            await rig.stop()
    [message] = server.inbox.messages
    token = re.search(r"https://puente\.example/c/([\w-]+)", message.get_body(("plain",)).get_content()).group(1)
    assert token in question.body  # the operator sees the same new link once
    assert (await rig.tenants.by_landing_token(token)).slug == "tienda-sol"
    assert await rig.tenants.by_landing_token(old.landing_token) is None


async def test_stats_shows_handoffs_by_the_assistant_and_by_the_owner(rig):
    from relay.handoffs import HandoffBy, open_handoffs  # the pipeline's counts, written as it does

    await rig.add_tenant("uno")
    counts = open_handoffs(rig.store.db)
    await counts.record("uno", HandoffBy.ASSISTANT, rig.clock.now())
    await counts.record("uno", HandoffBy.ASSISTANT, rig.clock.now())
    await counts.record("uno", HandoffBy.OWNER, rig.clock.now())
    reply = await rig.say("/stats", lang="en")
    assert "Handoffs to a person today: 2 by the assistant, 1 by the owner" in reply.body
    assert "Handoffs (7 days): 2 by the assistant, 1 by the owner" in reply.body
