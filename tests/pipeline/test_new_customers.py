"""A chat seen for the first time counts one new customer on its tenant's UTC day, for the
operators' digest; a customer writing again, that day or later, does not."""

from __future__ import annotations

from relay.message_log import day_of
from tests.support.pipeline import CUSTOMER

OTHER = "5491144445555"


async def test_each_new_chat_counts_one_new_customer_on_its_day_and_a_returning_one_does_not(rig):
    await rig.add_tenant()
    bridge = await rig.connect()
    for number, text in ((CUSTOMER, "hola"), (CUSTOMER, "¿tienen pan?"), (OTHER, "buenas")):
        await bridge.send_message(number, text)
        await bridge.wait_for_sent(lambda s, text=text: s["text"].endswith(text))
    await rig.idle()
    today = day_of(rig.clock.now())
    counts = await rig.stats.tenant_days("panaderia", [today])
    assert (counts.messages_in, counts.answered, counts.new_customers) == (3, 3, 2)

    rig.clock.advance(days=1)
    await bridge.send_message(CUSTOMER, "volví")
    await bridge.wait_for_sent(lambda s: s["text"].endswith("volví"))
    await rig.idle()
    assert (await rig.stats.tenant_days("panaderia", [day_of(rig.clock.now())])).new_customers == 0
