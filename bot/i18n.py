"""What the admin bot says, in Spanish (default) and English.

Texts are HTML (the bot's parse mode). Placeholders filled with tenant-provided values
must be escaped by the caller (bot.replies.esc); usage forms are escaped here.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

LANGUAGES = ("es", "en")

# key -> (es, en)
TEXTS: dict[str, tuple[str, str]] = {
    # --- access and basics ---------------------------------------------------------
    "refused": ("Este bot es privado.", "This bot is private."),
    "private_only": ("Solo atiendo en el chat privado conmigo; aquí no muestro nada.",
                     "I only work in my private chat; I show nothing here."),
    "help": (
        "🤖 <b>Puente</b> — administra los bots de WhatsApp de tus clientes.\n\n{commands}",
        "🤖 <b>Puente</b> — runs your clients' WhatsApp bots.\n\n{commands}",
    ),
    "unknown_command": ("No conozco ese comando. Mira /help.", "I don't know that command. See /help."),
    "stray_text": ("No estoy esperando nada. Mira /help.", "I'm not waiting for anything. See /help."),
    "cancelled": ("Cancelado.", "Cancelled."),
    "nothing_to_cancel": ("No hay nada que cancelar.", "There is nothing to cancel."),
    "timed_out": ("Pasaron 10 minutos sin respuesta; lo dejé.", "Ten minutes without an answer; I stopped."),
    "error": ("Algo falló de mi lado; ya quedó registrado. Intenta de nuevo.",
              "Something failed on my side; it is logged. Please try again."),
    "usage": ("Forma correcta: <code>{usage}</code>", "Correct form: <code>{usage}</code>"),
    "not_found": ("No hay un cliente «{slug}». Mira /tenants.", "There is no tenant “{slug}”. See /tenants."),
    "missing_slug": ("Falta el cliente.", "The tenant is missing."),
    "expired_button": ("Ese botón ya no sirve.", "That button has expired."),
    # --- validation ----------------------------------------------------------------
    "invalid.slug": ("El identificador tiene 2-32 letras minúsculas, números o guiones, como tienda-sol.",
                     "A slug is 2-32 lowercase letters, digits or hyphens, like tienda-sol."),
    "invalid.email": ("Un e-mail se ve así: nombre@empresa.cl.", "An e-mail address looks like nombre@empresa.cl."),
    "invalid.phone": ("El teléfono lleva código de país y 8-15 dígitos, como +56912345678.",
                      "A phone number has its country code and 8-15 digits, like +56912345678."),
    "invalid.openai_key": ("Una clave de OpenAI empieza con sk- y no tiene espacios.",
                           "An OpenAI API key starts with sk- and has no spaces."),
    "invalid.description": ("La descripción es un texto de 1 a 300 caracteres.", "A description is 1-300 characters of text."),
    "invalid.model": ("Un modelo se escribe como gpt-4.1-mini.", "A model name looks like gpt-4.1-mini."),
    "invalid.name": ("El nombre tiene 1-80 caracteres.", "A name is 1-80 characters of text."),
    "invalid.instructions": ("Las instrucciones tienen 1-20.000 caracteres.",
                             "Instructions are 1-20,000 characters of text."),
    "slug_taken": ("Ya existe un cliente «{slug}». Elige otro.", "A tenant “{slug}” already exists. Pick another."),
    # --- listing, card, stats ------------------------------------------------------
    "no_tenants": ("Aún no hay clientes. Crea uno con /newtenant.", "No tenants yet. Create one with /newtenant."),
    "tenants_page": ("<b>Clientes</b> ({total}) — página {page}/{pages}", "<b>Tenants</b> ({total}) — page {page}/{pages}"),
    "card": (
        "{emoji} <b>{name}</b> (<code>{slug}</code>)\n"
        "Estado: {status}\nTeléfono: {phone}\nModelo: {model}\nE-mail: {email}\nClave: {key}\n"
        "Enlace: {link}\nChats: {chats} (en pausa: {paused})\nMensajes hoy: {today}\nÚltimo error: {error}",
        "{emoji} <b>{name}</b> (<code>{slug}</code>)\n"
        "Status: {status}\nPhone: {phone}\nModel: {model}\nE-mail: {email}\nKey: {key}\n"
        "Link: {link}\nChats: {chats} (paused: {paused})\nMessages today: {today}\nLast error: {error}",
    ),
    "none": ("—", "—"),
    "stats": (
        "📊 <b>Resumen</b>\nClientes: {total}\n{by_status}\n\nMensajes hoy: {today}\n"
        "Mensajes últimos 7 días: {week}\nErrores de OpenAI (7 días): {errors}\n"
        "Traspasos a una persona hoy: {ai_today} por el asistente, {owner_today} por el dueño\n"
        "Traspasos (7 días): {ai_week} por el asistente, {owner_week} por el dueño",
        "📊 <b>Summary</b>\nTenants: {total}\n{by_status}\n\nMessages today: {today}\n"
        "Messages last 7 days: {week}\nOpenAI errors (7 days): {errors}\n"
        "Handoffs to a person today: {ai_today} by the assistant, {owner_today} by the owner\n"
        "Handoffs (7 days): {ai_week} by the assistant, {owner_week} by the owner",
    ),
    "usage_report.title": ("💵 <b>Consumo de OpenAI, {month}</b> (mes UTC)",
                           "💵 <b>OpenAI usage, {month}</b> (UTC month)"),
    "usage_report.tenant_title": ("💵 <b>{slug}</b>: consumo de OpenAI, {month} (mes UTC)",
                                  "💵 <b>{slug}</b>: OpenAI usage, {month} (UTC month)"),
    "usage_report.line": ("{tokens} tokens · {cost}", "{tokens} tokens · {cost}"),
    "usage_report.voice": (" · {notes} audio(s), {minutes} min", " · {notes} voice note(s), {minutes} min"),
    "usage_report.unpriced_mark": (" + sin precio", " + no price"),
    "usage_report.total": ("<b>Total</b>: {line}", "<b>Total</b>: {line}"),
    "usage_report.previous": ("Mes anterior ({month}): {line}", "Last month ({month}): {line}"),
    "usage_report.nothing": ("Sin consumo este mes.", "No usage this month."),
    "usage_report.unpriced": ("⚠️ Sin precio (sus tokens se cuentan, su costo no): {models}. Agrégalos en PRICES_FILE.",
                              "⚠️ No price (tokens counted, cost not): {models}. Add them to PRICES_FILE."),
    "usage_report.footer": ("Costo estimado en USD con precios del {date}; revísalos en openai.com/api/pricing.",
                            "Estimated cost in USD at prices of {date}; check them at openai.com/api/pricing."),
    "usage_report.csv": ("Consumo de <code>{slug}</code>, {month} (mes UTC).", "Usage of <code>{slug}</code>, {month} (UTC month)."),
    "usage_report.chart": ("📈 <code>{slug}</code>: mensajes y gasto por día, {month} (mes UTC).",
                           "📈 <code>{slug}</code>: messages and spend per day, {month} (UTC month)."),
    "usage_chart.title": ("{slug}: consumo de OpenAI, {month}", "{slug}: OpenAI usage, {month}"),
    "usage_chart.day": ("Día de {month}", "Day of {month}"),
    "usage_chart.messages": ("Mensajes respondidos", "Messages answered"),
    "usage_chart.spend": ("Gasto acumulado (US$)", "Spend so far (US$)"),
    "usage_chart.budget": ("Presupuesto ({usd})", "Budget ({usd})"),
    "usage_report.off": ("El consumo no está disponible aquí.", "Usage is not available here."),
    # --- daily digest --------------------------------------------------------------
    "digest.title": ("📰 <b>Resumen de ayer</b>, {day} (día UTC)", "📰 <b>Yesterday's digest</b>, {day} (UTC day)"),
    "digest.no_tenants": ("Aún no hay clientes.", "No tenants yet."),
    "digest.not_connected": ("WhatsApp no conectado ({state})", "WhatsApp not connected ({state})"),
    "digest.messages": ("Mensajes: {messages} recibidos, {answered} respondidos",
                        "Messages: {messages} in, {answered} answered"),
    "digest.new_customers": ("Clientes nuevos: {count}", "New customers: {count}"),
    "digest.handoffs": ("Derivaciones: {owner} por el dueño, {assistant} por el asistente; {open} abiertas ahora",
                        "Handoffs: {owner} by the owner, {assistant} by the assistant; {open} open now"),
    "digest.errors": ("Errores de OpenAI: {count}", "OpenAI errors: {count}"),
    "digest.spend": ("Gasto: {day} ayer, {month} en el mes", "Spend: {day} yesterday, {month} this month"),
    "digest.budget": (" ({percent}% del presupuesto de {budget})", " ({percent}% of the {budget} budget)"),
    # --- monthly budget (/budget) ------------------------------------------------------
    "budget.none": ("💸 {name} no tiene presupuesto mensual. Ejemplo: <code>{example}</code>",
                    "💸 {name} has no monthly budget. Example: <code>{example}</code>"),
    "budget.removed": ("💸 Presupuesto mensual de {name} quitado.", "💸 {name}'s monthly budget removed."),
    "budget.title": ("💸 Presupuesto mensual de {name}: {budget}", "💸 {name}'s monthly budget: {budget}"),
    "budget.saved": ("💸 Presupuesto mensual de {name} guardado: {budget}", "💸 {name}'s monthly budget saved: {budget}"),
    "budget.stop": ("Al llegar: el asistente deja de responder hasta fin de mes (stop).",
                    "When reached: the assistant stops until the month ends (stop)."),
    "budget.fallback": ("Al llegar: el asistente responde con {model} hasta fin de mes (fallback).",
                        "When reached: the assistant answers with {model} until the month ends (fallback)."),
    "budget.spend": ("Gasto de {month}: {spend}", "Spend in {month}: {spend}"),
    "budget.spend_of": ("Gasto de {month}: {spend} de {budget}{percent}", "Spend in {month}: {spend} of {budget}{percent}"),
    "budget.reached_stop": ("🛑 Alcanzado: el asistente no responde.", "🛑 Reached: the assistant does not answer."),
    "budget.reached_fallback": ("Alcanzado: responde con el modelo más económico.",
                                "Reached: it answers with the cheaper model."),
    "budget.bad_amount": ("❌ El presupuesto es un número positivo de USD; no cambié nada. Ejemplo: <code>{example}</code>",
                          "❌ The budget is a positive number of USD; nothing changed. Example: <code>{example}</code>"),
    "budget.bad_action": ("❌ Al llegar al presupuesto: stop o fallback &lt;modelo&gt;; no cambié nada. "
                          "Ejemplo: <code>{example} fallback gpt-4.1-nano</code>",
                          "❌ When the budget is reached: stop or fallback &lt;model&gt;; nothing changed. "
                          "Example: <code>{example} fallback gpt-4.1-nano</code>"),
    "budget.bad_model": ("❌ fallback necesita un modelo, como gpt-4.1-nano; no cambié nada. "
                         "Ejemplo: <code>{example} fallback gpt-4.1-nano</code>",
                         "❌ fallback needs a model, like gpt-4.1-nano; nothing changed. "
                         "Example: <code>{example} fallback gpt-4.1-nano</code>"),
    "stats.budgets": ("💸 Presupuestos del mes:", "💸 Budgets this month:"),
    "status.disabled": ("desactivado", "disabled"),
    "status.banned": ("bloqueado por WhatsApp", "banned by WhatsApp"),
    "status.banned_until": ("bloqueado por WhatsApp hasta el {until}", "banned by WhatsApp until {until}"),
    "status.banned_temporarily": ("bloqueado por WhatsApp por un tiempo", "banned by WhatsApp for a while"),
    "status.attention": ("necesita atención", "needs attention"),
    "status.connected": ("conectado", "connected"),
    "status.waiting": ("esperando vinculación", "waiting to be linked"),
    "status.connecting": ("conectando", "connecting"),
    "status.logged_out": ("desvinculado", "logged out"),
    "status.stopped": ("detenido", "stopped"),
    # --- buttons -------------------------------------------------------------------
    "btn.enable": ("▶️ Activar", "▶️ Enable"),
    "btn.disable": ("⏸ Desactivar", "⏸ Disable"),
    "btn.qr": ("📷 QR", "📷 QR"),
    "btn.pair": ("🔢 Código", "🔢 Pairing code"),
    "btn.logout": ("🔌 Desvincular", "🔌 Log out"),
    "btn.invite": ("✉️ Invitación", "✉️ Send invite"),
    "btn.rotate": ("🔄 Reemitir enlace", "🔄 Re-issue link"),
    "btn.delete": ("🗑 Eliminar", "🗑 Delete"),
    "btn.card": ("Ver {name}", "Open {name}"),
    "btn.confirm": ("✅ Confirmar", "✅ Confirm"),
    "btn.cancel": ("✖️ Cancelar", "✖️ Cancel"),
    "btn.prev": ("◀️", "◀️"),
    "btn.next": ("▶️", "▶️"),
    "btn.new_qr": ("📷 Pedir otro QR", "📷 Get a new QR"),
    "btn.keep_key": ("Guardar la clave igual", "Keep the key anyway"),
    # --- tenant actions ------------------------------------------------------------
    "enabled": ("▶️ {name} activado; su bot está arrancando.", "▶️ {name} enabled; its bridge is starting."),
    "disabled": ("⏸ {name} desactivado; su bot se detuvo.", "⏸ {name} disabled; its bridge is stopping."),
    "confirm_logout": ("¿Desvincular WhatsApp de {name}? Habrá que escanear un QR de nuevo.",
                       "Log {name} out of WhatsApp? A new QR scan will be needed."),
    "confirm_delete": ("¿Eliminar a {name} con sus chats y su sesión? No se puede deshacer.",
                       "Delete {name} with its chats and session? This cannot be undone."),
    "confirm_rotate": ("¿Reemitir el enlace de {name}? El actual deja de funcionar; si tiene e-mail, le envío el nuevo.",
                       "Re-issue {name}'s link? The current one stops working; if it has an e-mail, I send the new one."),
    "confirm_invite": ("¿Enviar a {email} una invitación con un enlace nuevo? El enlace actual de {name} deja de funcionar.",
                       "Send {email} an invite with a new link? {name}'s current link stops working."),
    "link_hidden": ("solo se muestra al crearlo o reemitirlo (🔄)", "shown only when created or re-issued (🔄)"),
    "logged_out": ("🔌 {name} desvinculado.", "🔌 {name} logged out."),
    "deleted": ("🗑 {name} eliminado.", "🗑 {name} deleted."),
    "rotated": ("🔄 Nuevo enlace de {name}: {link}", "🔄 New link for {name}: {link}"),
    "email_set": ("✉️ E-mail de {name}: {email}", "✉️ {name}'s e-mail: {email}"),
    "description_set": ("📝 Descripción de {name} en su página: {description}",
                        "📝 {name}'s description on their page: {description}"),
    "model_set": ("🧠 Modelo de {name}: {model}", "🧠 {name}'s model: {model}"),
    "invite_sent": ("✉️ Invitación enviada a {email}.", "✉️ Invite sent to {email}."),
    "invite_failed": ("⚠️ No pude enviar la invitación: {error}", "⚠️ The invite could not be sent: {error}"),
    "invite_no_email": ("{name} no tiene e-mail. Agrégalo con <code>/email {slug} nombre@empresa.cl</code>.",
                        "{name} has no e-mail. Add one with <code>/email {slug} name@company.com</code>."),
    "invite_no_smtp": ("El envío de e-mails no está configurado (SMTP_HOST); no envié invitación.",
                       "E-mail is not configured (SMTP_HOST); no invite was sent."),
    "bridge_failed": ("⚠️ El puente de WhatsApp no respondió: {error}", "⚠️ The WhatsApp bridge did not answer: {error}"),
    "pair_code": ("🔢 Código para {name}: <code>{code}</code>\nEn el teléfono +{phone}: WhatsApp → Dispositivos vinculados → "
                  "Vincular con número de teléfono.",
                  "🔢 Code for {name}: <code>{code}</code>\nOn the phone +{phone}: WhatsApp → Linked devices → "
                  "Link with phone number."),
    "pair_code_valid": ("\nVale por {left}: escríbelo antes de que venza.", "\nValid for {left}: type it before it expires."),
    "ask_phone": ("Envía el teléfono de WhatsApp de {name}, con código de país (+56912345678), o /cancel.",
                  "Send {name}'s WhatsApp phone number with country code (+56912345678), or /cancel."),
    # --- QR ------------------------------------------------------------------------
    "qr_asking": ("⏳ Pidiendo un QR para {name}; aparecerá aquí.", "⏳ Asking for a QR for {name}; it will appear here."),
    "qr_caption": ("📷 {name}: escanea con WhatsApp → Dispositivos vinculados. Este código vence en {expires}.",
                   "📷 {name}: scan with WhatsApp → Linked devices. This code expires in {expires}."),
    "qr_connected": ("✅ {name} conectado como +{phone}", "✅ {name} connected as +{phone}"),
    "qr_timeout": ("⌛ {name}: WhatsApp dejó de emitir códigos QR. Pide otro cuando estés listo.",
                   "⌛ {name}: WhatsApp stopped issuing QR codes. Ask for a new one when ready."),
    "already_connected": ("✅ {name} ya está conectado como +{phone}.", "✅ {name} is already connected as +{phone}."),
    # --- alerts --------------------------------------------------------------------
    "alert.connected": ("✅ {name} se conectó a WhatsApp{phone}.", "✅ {name} connected to WhatsApp{phone}."),
    "alert.logged_out": ("🔌 {name} fue desvinculado desde el teléfono. Hace falta un QR nuevo.",
                         "🔌 {name} was logged out from the phone. A new QR is needed."),
    "alert.primary_device_gone": ("📵 La cuenta de WhatsApp de {name}{phone} ya no está en este dispositivo: se "
                                  "registró en un teléfono nuevo o quedó bloqueada. Hay que vincularla de nuevo "
                                  "(QR o código).",
                                  "📵 {name}'s WhatsApp account{phone} left this device: it was registered on a new "
                                  "phone, or locked. It must be linked again (QR or pairing code)."),
    "alert.banned": ("⛔ WhatsApp bloqueó el número de {name}{phone} de forma permanente; el puente ya no se conecta.",
                     "⛔ WhatsApp banned {name}'s number{phone} for good; the bridge no longer connects."),
    "alert.banned_until": ("⏳ WhatsApp bloqueó temporalmente el número de {name}{phone}, hasta el {until}. El "
                           "puente vuelve a conectarse solo entonces.",
                           "⏳ WhatsApp temporarily banned {name}'s number{phone}, until {until}. The bridge "
                           "reconnects by itself then."),
    "alert.banned_temporarily": ("⏳ WhatsApp bloqueó temporalmente el número de {name}{phone} (no dijo hasta "
                                 "cuándo). El puente vuelve a intentarlo cada hora.",
                                 "⏳ WhatsApp temporarily banned {name}'s number{phone} (it did not say until when). "
                                 "The bridge tries again every hour."),
    "alert.crash_loop": ("💥 El puente de {name} se cae una y otra vez.", "💥 {name}'s bridge keeps crashing."),
    "alert.qr_timeout": ("⌛ {name} no escaneó el QR a tiempo; el puente dejó de pedirlo.",
                         "⌛ {name} did not scan the QR in time; the bridge stopped asking."),
    "alert.openai_key_invalid": ("🔑 La clave de OpenAI de {name} no es válida. Cámbiala con /key {slug}.",
                                 "🔑 {name}'s OpenAI key is not valid. Replace it with /key {slug}."),
    "alert.openai_quota": ("💳 La cuenta de OpenAI de {name} se quedó sin saldo.",
                           "💳 {name}'s OpenAI account is out of quota."),
    "alert.openai_recovered": ("👌 OpenAI vuelve a responder para {name}.", "👌 OpenAI answers again for {name}."),
    "alert.send_failed": ("⚠️ WhatsApp rechazó una respuesta de {name}: un cliente{customer} no la recibió{error}. "
                          "No se reenvía: la rechazaría otra vez.",
                          "⚠️ WhatsApp refused a reply of {name}: a customer{customer} did not get it{error}. "
                          "It is not resent: it would be refused again."),
    "alert.knowledge_bad_key": (
        "📚 {name} no pudo aprender {file}: OpenAI rechazó su clave. Cámbiala con /key {slug}. "
        "El asistente sigue respondiendo sin ese documento.",
        "📚 {name} could not learn {file}: OpenAI refused its key. Replace it with /key {slug}. "
        "The assistant keeps answering without that document."),
    "alert.knowledge_quota": (
        "📚 {name} no pudo aprender {file}: su cuenta de OpenAI no tiene saldo. "
        "El asistente sigue respondiendo sin ese documento.",
        "📚 {name} could not learn {file}: its OpenAI account is out of quota. "
        "The assistant keeps answering without that document."),
    "alert.knowledge_rejected": (
        "📚 OpenAI no aceptó el documento {file} de {name}: {reason}. El asistente sigue respondiendo sin él.",
        "📚 OpenAI did not accept {name}'s document {file}: {reason}. The assistant keeps answering without it."),
    "alert.knowledge_gone": (
        "📚 La base de conocimiento {store} de {name} ya no existe en OpenAI (la borraron allí): "
        "el asistente dejó de buscar en ella. Revisa /kb {slug}.",
        "📚 {name}'s knowledge store {store} no longer exists at OpenAI (it was deleted there): "
        "the assistant stopped searching it. See /kb {slug}."),
    "alert.ai_handoff": ("🙋 El asistente de {name} pasó un chat a una persona: cliente{customer}. Motivo: {reason}",
                         "🙋 {name}'s assistant handed a chat to a person: customer{customer}. Reason: {reason}"),
    "alert.budget_warning": ("💸 {name} ya gastó el 80 % de su presupuesto de OpenAI del mes ({month}): "
                             "US$ {spent} de US$ {budget}.",
                             "💸 {name} has spent 80 % of its OpenAI budget for the month ({month}): "
                             "US$ {spent} of US$ {budget}."),
    "alert.budget_stopped": ("🛑 {name} alcanzó su presupuesto de OpenAI del mes ({month}): US$ {spent} de US$ {budget}. "
                             "El asistente no responde hasta fin de mes o hasta que subas el presupuesto "
                             "(<code>/budget {slug} &lt;usd&gt;</code>).",
                             "🛑 {name} reached its OpenAI budget for the month ({month}): US$ {spent} of US$ {budget}. "
                             "The assistant does not answer until the month ends or the budget is raised "
                             "(<code>/budget {slug} &lt;usd&gt;</code>)."),
    "alert.budget_fallback": ("💸 {name} alcanzó su presupuesto de OpenAI del mes ({month}): US$ {spent} de "
                              "US$ {budget}. Hasta fin de mes el asistente responde con {model}.",
                              "💸 {name} reached its OpenAI budget for the month ({month}): US$ {spent} of "
                              "US$ {budget}. Until the month ends the assistant answers with {model}."),
    "alert.whatsapp_error": (" (error {code} de WhatsApp)", " (WhatsApp error {code})"),
    "alert.send_uncertain": ("⚠️ El puente de {name} se reinició mientras enviaba: una respuesta puede no haber "
                             "llegado a un cliente (no se reenvía, para no duplicarla).",
                             "⚠️ {name}'s bridge restarted mid-send: a reply may not have reached a customer "
                             "(not resent, so it is never doubled)."),
    "alert.store_trouble": ("💾 Puente no puede guardar mensajes (¿disco lleno o carpeta de datos de solo lectura?). "
                            "Los mensajes de {name} esperan en su teléfono y llegarán cuando se libere espacio.",
                            "💾 Puente cannot store messages (disk full or data folder read-only?). {name}'s "
                            "messages wait on the phone and arrive once there is room again."),
    # --- flows ---------------------------------------------------------------------
    "nt.ask_name": ("Nuevo cliente. ¿Cómo se llama el negocio? (/cancel para salir)",
                    "New tenant. What is the business called? (/cancel to leave)"),
    "nt.ask_slug": ("Identificador para {name}: toca la sugerencia o escribe otro.",
                    "Slug for {name}: tap the suggestion or type another."),
    "nt.ask_email": ("E-mail del cliente para la invitación, o /skip.", "The client's e-mail for the invite, or /skip."),
    "nt.ask_key": ("Clave de OpenAI del cliente (borraré tu mensaje apenas lo lea).",
                   "The client's OpenAI API key (I delete your message as soon as I read it)."),
    "nt.ask_instructions": ("Instrucciones para el bot, o /skip para usar las de siempre.",
                            "Instructions for the bot, or /skip for the default ones."),
    "nt.summary": ("Revisa:\nNombre: {name}\nIdentificador: <code>{slug}</code>\nE-mail: {email}\nClave: {key}\n"
                   "Instrucciones: {instructions}",
                   "Check:\nName: {name}\nSlug: <code>{slug}</code>\nE-mail: {email}\nKey: {key}\n"
                   "Instructions: {instructions}"),
    "nt.default_instructions": ("las de siempre", "the default ones"),
    "nt.created": ("🎉 {name} creado. Enlace para el cliente:\n{link}\nEl QR llegará aquí en cuanto el puente lo emita.",
                   "🎉 {name} created. The client's link:\n{link}\nThe QR arrives here as soon as the bridge issues it."),
    "key.stray_deleted": ("🔒 Borré tu mensaje: parecía una clave de OpenAI. Para cambiar una clave usa /key.",
                          "🔒 I deleted your message: it looked like an OpenAI key. To replace a key use /key."),
    "key.deleted_note": ("🔒 Borré el mensaje con la clave.", "🔒 I deleted the message with the key."),
    "key.checking": ("Revisando la clave {key}…", "Checking the key {key}…"),
    "key.invalid": ("❌ Esta clave no es válida (OpenAI la rechazó). Envía otra o /cancel.",
                    "❌ This key is not valid (OpenAI refused it). Send another or /cancel."),
    "key.invalid_final": ("❌ Esta clave no es válida (OpenAI la rechazó). No guardé nada.",
                          "❌ This key is not valid (OpenAI refused it). Nothing was stored."),
    "key.unreachable": ("⚠️ No pude comunicarme con OpenAI para probar la clave {key}. ¿La guardo igual?",
                        "⚠️ I could not reach OpenAI to test the key {key}. Keep it anyway?"),
    "key.ask": ("Envía la nueva clave de OpenAI de {name} (ahora: {key}). Borraré tu mensaje.",
                "Send {name}'s new OpenAI key (now: {key}). I will delete your message."),
    "key.saved": ("🔑 Clave de {name} guardada: {key}", "🔑 {name}'s key saved: {key}"),
    "prompt.current": ("Instrucciones actuales de {name}:\n<pre>{text}</pre>\nEnvía las nuevas, o /cancel.",
                       "{name}'s current instructions:\n<pre>{text}</pre>\nSend the new ones, or /cancel."),
    "prompt.saved": ("📝 Instrucciones de {name} guardadas.", "📝 {name}'s instructions saved."),
    "settings.title": ("⚙️ Ajustes de {name}", "⚙️ {name}'s settings"),
    "settings.ask": ("Nuevo valor para «{label}» (ahora: {value}), o /cancel.",
                     "New value for “{label}” (now: {value}), or /cancel."),
    "settings.bad_number": ("Debe ser un número entre {low} y {high}.", "It must be a number from {low} to {high}."),
    "settings.bad_text": ("Debe ser un texto de 1 a 1.000 caracteres.", "It must be 1-1,000 characters of text."),
    "settings.saved": ("⚙️ Guardado.", "⚙️ Saved."),
    "set.groups_enabled": ("Grupos", "Groups"),
    "set.handoff_enabled": ("Traspaso a humano", "Human handoff"),
    "set.delete_owner_commands": ("Borrar comandos del dueño", "Delete owner commands"),
    "set.debounce_seconds": ("Espera (s)", "Debounce (s)"),
    "set.handoff_hours": ("Pausa tras traspaso (h)", "Handoff pause (h)"),
    "set.memory_hours": ("Memoria (h)", "Memory (h)"),
    "set.fallback_text": ("Texto de emergencia", "Fallback text"),
    "set.reject_calls": ("Rechazar llamadas", "Reject calls"),
    "set.call_message": ("Aviso a quien llama", "Message to callers"),
    "set.ai_handoff": ("El asistente puede pasar a una persona", "Assistant may hand off to a person"),
    "set.notify_operator_on_handoff": ("Avisarme de esos traspasos", "Tell me of those handoffs"),
    "set.weekly_summary": ("Resumen semanal al dueño (lunes)", "Weekly summary to the owner (Mondays)"),
    "set.handoff_text": ("Texto al pasar a una persona", "Handoff text"),
    "set.away_message": ("Mensaje fuera de horario", "Away message"),
    # --- opening hours (/hours) ----------------------------------------------------
    "hours.none": ("🕘 {name} no tiene horario: siempre abierto. Zona horaria por defecto: {zone}.\n"
                   "Para definirlo: <code>{example}</code>",
                   "🕘 {name} has no opening hours: always open. Default time zone: {zone}.\n"
                   "To set them: <code>{example}</code>"),
    "hours.title": ("🕘 Horario de {name} ({zone})", "🕘 {name}'s opening hours ({zone})"),
    "hours.saved": ("🕘 Horario de {name} guardado ({zone})", "🕘 {name}'s opening hours saved ({zone})"),
    "hours.mode.answer": ("Fuera de horario: el asistente responde y avisa que están cerrados (answer).",
                          "Outside hours: the assistant answers and says it is closed (answer)."),
    "hours.mode.away": ("Fuera de horario: mensaje de ausencia, sin asistente (away).",
                        "Outside hours: the away message, no assistant (away)."),
    "hours.closed_dates": ("Días cerrados: {dates}", "Closed dates: {dates}"),
    "hours.open_now": ("Ahora: ☀️ abierto{by}.", "Now: ☀️ open{by}."),
    "hours.open_now_until": ("Ahora: ☀️ abierto{by}, cierra {until}.", "Now: ☀️ open{by}, closes {until}."),
    "hours.closed_now": ("Ahora: 🌙 cerrado{by}, hasta que el dueño escriba «abierto».",
                         "Now: 🌙 closed{by}, until the owner writes “abierto”."),
    "hours.closed_now_until": ("Ahora: 🌙 cerrado{by}, abre {until}.", "Now: 🌙 closed{by}, opens {until}."),
    "hours.by_owner": (" (lo decidió el dueño)", " (the owner's call)"),
    "hours.bad_schedule": ("❌ No entiendo ese horario; no cambié nada. Ejemplo: <code>{example}</code>",
                           "❌ I can't read that schedule; nothing changed. Example: <code>{example}</code>"),
    "hours.bad_timezone": ("❌ No conozco la zona horaria «{zone}»; no cambié nada. Ejemplo: <code>{example}</code>",
                           "❌ Unknown time zone “{zone}”; nothing changed. Example: <code>{example}</code>"),
    "hours.bad_date": ("❌ Las fechas se escriben 24/12 o 24/12/2027; no cambié nada. Ejemplo: <code>{example}</code>",
                       "❌ Dates are written 24/12 or 24/12/2027; nothing changed. Example: <code>{example}</code>"),
    "hours.needs_schedule": ("❌ Primero define el horario; no cambié nada. Ejemplo: <code>{example}</code>",
                             "❌ Set the opening hours first; nothing changed. Example: <code>{example}</code>"),
    # --- knowledge files (/kb) -----------------------------------------------------
    "kb.title": ("📚 Conocimiento de {name}", "📚 {name}'s knowledge"),
    "kb.store": ("Vector store: {id}", "Vector store: {id}"),
    "kb.no_files": ("Sin archivos todavía: el asistente no busca en documentos.",
                    "No files yet: the assistant searches no documents."),
    "kb.files": ("Archivos ({count}/{max}){page}:", "Files ({count}/{max}){page}:"),
    "kb.page": (", página {page}/{pages}", ", page {page}/{pages}"),
    "kb.state.processing": ("⏳ procesando", "⏳ processing"),
    "kb.state.ready": ("✅ listo", "✅ ready"),
    "kb.state.failed": ("❌ falló: {reason}", "❌ failed: {reason}"),
    "kb.attached": ("Vector stores adjuntos: {ids}", "Attached vector stores: {ids}"),
    "kb.gone": ("⚠️ borrado en OpenAI, ya no se busca", "⚠️ deleted at OpenAI, no longer searched"),
    "kb.how": ("Para agregar: envíame el documento con el texto <code>/kb {slug}</code>, o toca ➕. Tipos: {types}; "
               "hasta 20 MB.\nPara usar uno existente: <code>/kb {slug} attach vs_…</code>",
               "To add one: send me the document with the caption <code>/kb {slug}</code>, or tap ➕. Types: {types}; "
               "up to 20 MB.\nTo use an existing one: <code>/kb {slug} attach vs_…</code>"),
    "kb.btn.add": ("➕ Agregar archivo", "➕ Add a file"),
    "kb.btn.remove": ("🗑 {name}", "🗑 {name}"),
    "kb.ask_document": ("Envía ahora el documento para {name} ({types}; hasta 20 MB), o /cancel.",
                        "Send the document for {name} now ({types}; up to 20 MB), or /cancel."),
    "kb.stray_document": ("Para agregarlo al conocimiento de un cliente, envíalo con el texto <code>/kb &lt;slug&gt;</code>.",
                          "To add it to a tenant's knowledge, send it with the caption <code>/kb &lt;slug&gt;</code>."),
    "kb.confirm_remove": ("¿Quitar {file} del conocimiento de {name}? También se borra en OpenAI.",
                          "Remove {file} from {name}'s knowledge? It is deleted at OpenAI too."),
    "kb.removed": ("🗑 {file} quitado.", "🗑 {file} removed."),
    "kb.attached_ok": ("📎 {id} adjunto a {name}: el asistente también busca ahí.",
                       "📎 {id} attached to {name}: the assistant searches it too."),
    "kb.detached_ok": ("📎 {id} ya no es parte de {name} (sigue en OpenAI).",
                       "📎 {id} is no longer part of {name} (it stays at OpenAI)."),
    "kb.receiving": ("⏳ Recibiendo {file} para {name}…", "⏳ Receiving {file} for {name}…"),
    "kb.processing": ("⏳ {file} subido a OpenAI para {name}; lo está procesando…",
                      "⏳ {file} uploaded to OpenAI for {name}; it is being processed…"),
    "kb.ready": ("✅ {file} listo: el asistente de {name} ya lo usa.", "✅ {file} ready: {name}'s assistant uses it now."),
    "kb.failed": ("❌ OpenAI no pudo procesar {file}: {reason}", "❌ OpenAI could not process {file}: {reason}"),
    "kb.still_processing": ("⏳ {file} sigue en proceso en OpenAI; míralo luego con /kb {slug}.",
                            "⏳ {file} is still being processed at OpenAI; check later with /kb {slug}."),
    "kb.download_failed": ("⚠️ No pude descargar {file} de Telegram; no subí nada. Envíalo de nuevo.",
                           "⚠️ I could not download {file} from Telegram; nothing was uploaded. Send it again."),
    "kb.off": ("El conocimiento no está disponible aquí.", "Knowledge files are not available here."),
    "kb.error.bad_type": ("❌ {file}: ese tipo no sirve para la búsqueda de OpenAI. Sirven: {types}. No subí nada.",
                          "❌ {file}: OpenAI file search does not take that type. These work: {types}. Nothing uploaded."),
    "kb.error.too_large": ("❌ {file} pesa {size}; el máximo es 20 MB (lo que Telegram deja descargar a un bot). "
                           "No subí nada.", "❌ {file} is {size}; the limit is 20 MB (what Telegram lets a bot download). "
                           "Nothing uploaded."),
    "kb.error.too_many": ("❌ {name} ya tiene {max} archivos, el máximo. Quita alguno con /kb {slug}; no subí nada.",
                          "❌ {name} already has {max} files, the limit. Remove one with /kb {slug}; nothing uploaded."),
    "kb.error.bad_key": ("🔑 OpenAI rechazó la clave de {name}; no cambié nada. Cámbiala con /key {slug}.",
                         "🔑 OpenAI refused {name}'s key; nothing changed. Replace it with /key {slug}."),
    "kb.error.quota": ("💳 La cuenta de OpenAI de {name} no tiene saldo; no cambié nada.",
                       "💳 {name}'s OpenAI account is out of credit; nothing changed."),
    "kb.error.unreachable": ("⚠️ No pude comunicarme con OpenAI ({detail}); no cambié nada. Intenta de nuevo.",
                             "⚠️ I could not reach OpenAI ({detail}); nothing changed. Try again."),
    "kb.error.rejected": ("❌ OpenAI rechazó {file}: {detail}", "❌ OpenAI refused {file}: {detail}"),
    "kb.error.not_found": ("❌ OpenAI no tiene «{detail}» en el proyecto de {name}; no cambié nada.",
                           "❌ OpenAI has no “{detail}” in {name}'s project; nothing changed."),
    "kb.error.store_gone": ("❌ El vector store de {name} fue borrado en OpenAI; no subí {file}. Envíalo de nuevo y "
                            "creo uno nuevo (los archivos anteriores hay que subirlos otra vez).",
                            "❌ {name}'s vector store was deleted at OpenAI; {file} was not uploaded. Send it again and "
                            "I make a new one (earlier files must be sent again)."),
    "kb.error.not_attached": ("❌ {detail} no está adjunto a {name}; no cambié nada.",
                              "❌ {detail} is not attached to {name}; nothing changed."),
    "kb.error.bad_id": ("❌ «{detail}» no es un id de vector store (se ven así: vs_abc123); no cambié nada.",
                        "❌ “{detail}” is not a vector store id (they look like vs_abc123); nothing changed."),
}

COMMANDS: dict[str, tuple[str, str]] = {
    "start": ("Qué hace este bot", "What this bot does"),
    "help": ("Comandos", "Commands"),
    "newtenant": ("Crear un cliente", "Create a tenant"),
    "tenants": ("Lista de clientes", "List the tenants"),
    "tenant": ("Ficha de un cliente", "A tenant's card"),
    "enable": ("Activar un cliente", "Enable a tenant"),
    "disable": ("Desactivar un cliente", "Disable a tenant"),
    "qr": ("QR para vincular WhatsApp", "QR to link WhatsApp"),
    "pair": ("Vincular con código", "Link with a pairing code"),
    "logout": ("Desvincular WhatsApp", "Log WhatsApp out"),
    "delete": ("Eliminar un cliente", "Delete a tenant"),
    "email": ("Cambiar el e-mail", "Change the e-mail"),
    "description": ("Descripción que ve el cliente", "The description the client sees"),
    "invite": ("Invitación con enlace nuevo", "Invite with a new link"),
    "prompt": ("Cambiar las instrucciones", "Change the instructions"),
    "model": ("Cambiar el modelo", "Change the model"),
    "key": ("Cambiar la clave de OpenAI", "Replace the OpenAI key"),
    "settings": ("Ajustes del cliente", "The tenant's settings"),
    "hours": ("Horario de atención", "Opening hours"),
    "kb": ("Archivos que el asistente consulta", "Files the assistant searches"),
    "stats": ("Resumen general", "Totals"),
    "usage": ("Consumo y costo de OpenAI del mes", "OpenAI usage and cost this month"),
    "budget": ("Presupuesto mensual de OpenAI", "Monthly OpenAI budget"),
    "digest": ("Resumen de ayer, ahora", "Yesterday's digest, now"),
    "cancel": ("Salir del paso a paso", "Leave a multi-step flow"),
}

USAGE: dict[str, str] = {
    "newtenant": "/newtenant  or  /newtenant <slug> <email or -> <openai-key>",
    "tenant": "/tenant <slug>",
    "enable": "/enable <slug>",
    "disable": "/disable <slug>",
    "qr": "/qr <slug>",
    "pair": "/pair <slug> <phone, like +56912345678>",
    "logout": "/logout <slug>",
    "delete": "/delete <slug>",
    "email": "/email <slug> <address>",
    "description": "/description <slug> <text>",
    "invite": "/invite <slug>",
    "prompt": "/prompt <slug>",
    "model": "/model <slug> <model, like gpt-4.1-mini>",
    "key": "/key <slug>",
    "settings": "/settings <slug>",
    "hours": "/hours <slug> [<timezone> <schedule> [answer|away] | off | closed <dd/mm …>]",
    "usage": "/usage  or  /usage <slug>  or  /usage <slug> csv",
    "kb": "/kb <slug>  or  /kb <slug> attach vs_…  or  /kb <slug> detach vs_…",
    "budget": "/budget <slug> [<usd> [stop | fallback <model>] | off]",
}


def moment(value: datetime) -> str:
    """A moment for a person: `2026-12-02 14:30 UTC`."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def duration(seconds: float) -> str:
    """A short wait for a person: `45 s`, `3 min`."""
    seconds = max(0, round(seconds))
    return f"{seconds} s" if seconds < 90 else f"{round(seconds / 60)} min"


def language(code: str | None) -> str:
    """The bot's language for a Telegram language_code: English for en*, else Spanish."""
    return "en" if code and code.lower().startswith("en") else "es"


def t(lang: str, key: str, /, **values: object) -> str:
    """The text `key` in `lang`, with `values` filled in (already escaped by the caller)."""
    es, en = TEXTS[key]
    text = en if lang == "en" else es
    return text.format(**values) if values else text


def usage(lang: str, command: str) -> str:
    """"Correct form: /command <args>" with the form escaped for HTML."""
    return t(lang, "usage", usage=html.escape(USAGE[command]))


def command_list(lang: str) -> list[tuple[str, str]]:
    """(command, description) pairs for /help and set_my_commands."""
    return [(name, en if lang == "en" else es) for name, (es, en) in COMMANDS.items()]
