"""The tools the assistant may use (the handoff function, file search over the tenant's
knowledge), their calls as the pipeline sees them, and the reply cleaned of what file search
leaves in it.

Shapes follow the Responses API as the installed SDK types them (openai 3.57:
types/responses/function_tool_param.py FunctionToolParam for the tool;
response_function_tool_call.py ResponseFunctionToolCall for the call, read here from the
Response object's JSON (relay/assistant/responses_api.py);
response_input_item_param.py FunctionCallOutput for its output;
file_search_tool_param.py FileSearchToolParam, `{"type": "file_search", "vector_store_ids": [...]}`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from relay.usage.model import TokenUsage

HANDOFF_TOOL_NAME = "handoff_to_human"
HANDOFF_TOOL: dict[str, Any] = {
    "type": "function",
    "name": HANDOFF_TOOL_NAME,
    "description": (
        "Hand this chat over to a person of the business's team, who will answer the customer "
        "personally; the assistant stops answering this chat. Call it when the customer asks to "
        "talk to a person, is upset or complaining, or needs something that the instructions say "
        "only the staff can do. Also write a short message telling the customer that a person "
        "will answer soon, in the customer's language."
    ),
    "parameters": {
        "type": "object",
        "properties": {
            "reason": {
                "type": "string",
                "description": "Why the chat needs a person, in one short sentence for the staff.",
            },
        },
        "required": ["reason"],
        "additionalProperties": False,
    },
    "strict": True,
}
# What the conversation is told after the call (its function_call_output), so that the
# model knows, in later turns, that the chat went to a person.
HANDOFF_OUTPUT = "Done: the chat was handed to a person of the team, who will answer the customer."


@dataclass(frozen=True, slots=True)
class HandoffCall:
    """The model asked for a person (one `handoff_to_human` function call)."""

    call_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What one turn produced: the text for the customer, a handoff if the model asked, the
    response's token counts (None when it carried no `usage`), and where the answer was
    stored: its conversation and the ids of its reply items (`reply_items`; taken out
    again when the reply is held and the customer never sees it)."""

    text: str
    handoff: HandoffCall | None = None
    usage: TokenUsage | None = None
    conversation: str | None = None
    reply_ids: tuple[str, ...] = ()


def function_calls(response: dict[str, Any]) -> list[dict[str, Any]]:
    """The `function_call` output items of a Response object (OpenAI's JSON)."""
    return [item for item in response.get("output") or [] if item.get("type") == "function_call"]


def output_text(response: dict[str, Any]) -> str:
    """The text of a Response object's `message` items, as the SDK's `output_text` joins it."""
    return "".join(part.get("text") or "" for item in response.get("output") or [] if item.get("type") == "message"
                   for part in item.get("content") or [] if part.get("type") == "output_text")


def reply_items(response: dict[str, Any]) -> tuple[str, ...]:
    """The ids of the output items that make up the reply: the assistant `message` items and
    the `reasoning` items right before them, never a call or what leads to it. A reasoning
    item left without the item it led to makes OpenAI refuse the conversation from then on
    ("Item 'rs_...' of type 'reasoning' was provided without its required following item")."""
    ids: list[str] = []
    leading: list[str] = []
    for item in response.get("output") or []:
        kind = item.get("type")
        if kind == "reasoning":
            leading.append(item["id"])
            continue
        if kind == "message":
            ids += leading + [item["id"]]
        leading = []
    return tuple(ids)


def handoff_call(calls: list[dict[str, Any]]) -> HandoffCall | None:
    """The first handoff_to_human call among `calls`, with its reason (empty if unreadable)."""
    for call in calls:
        if call.get("name") != HANDOFF_TOOL_NAME:
            continue
        try:
            arguments = json.loads(call.get("arguments") or "{}")
        except ValueError:
            arguments = {}
        reason = arguments.get("reason") if isinstance(arguments, dict) else None
        return HandoffCall(call["call_id"], str(reason or "").strip())
    return None


def call_output(call_id: str, name: str) -> dict[str, Any]:
    """The function_call_output input item answering one call."""
    output = HANDOFF_OUTPUT if name == HANDOFF_TOOL_NAME else "Unknown function: nothing was done."
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def file_search_tool(vector_store_ids: list[str]) -> dict[str, Any]:
    """The file_search tool over these vector stores (the tenant's knowledge)."""
    return {"type": "file_search", "vector_store_ids": list(vector_store_ids)}


def has_file_search(tools: list[dict[str, Any]] | None) -> bool:
    return any(tool.get("type") == "file_search" for tool in tools or [])


# What file search leaves in a model's text: citation markers such as `【4:0†menu.pdf】`,
# `【4:0†source】` or `[4:0†source]` (the Assistants API's format, which models still write),
# and raw OpenAI file ids. The citations themselves travel as annotations, never shown.
_CITATION_MARKER = re.compile(r"[ \t]*(?:【[^【】\n]{0,200}†[^【】\n]{0,200}】|\[\d+(?::\d+)?†[^\[\]\n]{0,200}\])")
_FILE_ID = re.compile(r"[ \t]*(?:\(\s*file-[A-Za-z0-9]{16,}\s*\)|\bfile-[A-Za-z0-9]{16,}\b)")


def clean_reply(text: str) -> str:
    """The reply without citation markers or file ids; everything else kept as written."""
    if "†" not in text and "file-" not in text:
        return text
    return _FILE_ID.sub("", _CITATION_MARKER.sub("", text)).strip()
