"""Drives the gateway's Chat Completions front door with the official OpenAI Python SDK, unchanged.

Usage: sdk_chat.py BASE_URL MODEL [MODEL ...]
Each MODEL is exercised with chat.completions.create (text, streaming with include_usage, tools
with a tool-result follow-up, streamed tool calls, response_format) and chat.completions.stream.
Exits non-zero on any failure.
"""

import json
import sys

import openai

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather for a city",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        },
    }
]

ASK = {"role": "user", "content": "Weather in Paris?"}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def text_turns(client, model):
    reply = client.chat.completions.create(
        model=model,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello!"}],
    )
    choice = reply.choices[0]
    check(reply.object == "chat.completion", f"{model}: object {reply.object}")
    check(choice.message.content, f"{model}: empty content")
    check(choice.finish_reason == "stop", f"{model}: finish_reason {choice.finish_reason}")
    check(reply.usage.total_tokens > 0, f"{model}: no usage")

    deltas, usage, finish = [], None, None
    stream = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Count to 5"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.content:
                deltas.append(c.delta.content)
            finish = c.finish_reason or finish
    check(deltas, f"{model}: no content deltas")
    check(finish == "stop", f"{model}: streamed finish_reason {finish}")
    check(usage is not None and usage.total_tokens > 0, f"{model}: no usage chunk")

    with client.chat.completions.stream(model=model, messages=[{"role": "user", "content": "Hi"}]) as s:
        for _ in s:
            pass
        final = s.get_final_completion()
    check(final.choices[0].message.content, f"{model}: stream helper assembled no text")

    structured = client.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "Answer as JSON"}],
        response_format={"type": "json_schema", "json_schema": {
            "name": "answer", "strict": True,
            "schema": {"type": "object", "properties": {"a": {"type": "string"}},
                       "required": ["a"], "additionalProperties": False}}},
    )
    check(structured.choices[0].message.content is not None, f"{model}: no structured answer")


def tool_turns(client, model):
    reply = client.chat.completions.create(model=model, messages=[ASK], tools=TOOLS)
    calls = reply.choices[0].message.tool_calls
    check(calls, f"{model}: no tool_calls in {reply}")
    check(reply.choices[0].finish_reason == "tool_calls", f"{model}: finish {reply.choices[0].finish_reason}")
    json.loads(calls[0].function.arguments)

    follow = client.chat.completions.create(
        model=model,
        tools=TOOLS,
        messages=[
            ASK,
            reply.choices[0].message.model_dump(exclude_none=True),
            {"role": "tool", "tool_call_id": calls[0].id, "content": '{"temp_c": 21}'},
        ],
    )
    check(follow.choices[0].message is not None, f"{model}: no follow-up message")

    # Streamed tool calls, accumulated by index as applications do.
    assembled, finish = {}, None
    for chunk in client.chat.completions.create(model=model, messages=[ASK], tools=TOOLS, stream=True):
        for c in chunk.choices:
            finish = c.finish_reason or finish
            for call in c.delta.tool_calls or []:
                entry = assembled.setdefault(call.index, {"id": None, "name": None, "arguments": ""})
                entry["id"] = call.id or entry["id"]
                if call.function is not None:
                    entry["name"] = call.function.name or entry["name"]
                    entry["arguments"] += call.function.arguments or ""
    check(assembled, f"{model}: no streamed tool calls")
    first = assembled[min(assembled)]
    check(first["id"] and first["name"] == "get_weather", f"{model}: streamed call {first}")
    json.loads(first["arguments"])
    check(finish == "tool_calls", f"{model}: streamed finish_reason {finish}")

    with client.chat.completions.stream(model=model, messages=[ASK], tools=TOOLS) as s:
        for _ in s:
            pass
        final = s.get_final_completion()
    check(final.choices[0].message.tool_calls, f"{model}: stream helper assembled no tool call")


def main():
    base_url, models = sys.argv[1], sys.argv[2:]
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="not-checked", max_retries=0)
    for model in models:
        text_turns(client, model)
        tool_turns(client, model)
        print(f"ok {model}")
    try:
        client.chat.completions.create(model="no-such-model", messages=[ASK])
        raise AssertionError("an unknown model should fail")
    except openai.NotFoundError as err:
        check(err.status_code == 404, f"unknown model: {err.status_code}")
    try:
        client.chat.completions.create(model=models[0], messages=[ASK], n=2)
        raise AssertionError("n=2 should fail")
    except openai.BadRequestError as err:
        check(err.body.get("param") == "n", f"n=2: {err.body}")
    print("ok errors")


if __name__ == "__main__":
    main()
