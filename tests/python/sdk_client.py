"""Drives the gateway with the official OpenAI Python SDK, unchanged, as a user would.

Usage: sdk_client.py BASE_URL MODEL [MODEL ...]
Each MODEL is exercised with responses.create (text, tools + function_call_output follow-up,
structured output, previous_response_id) and responses.stream. Exits non-zero on any failure.
"""

import json
import sys

import openai

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    }
]


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def exercise(client, model):
    text = client.responses.create(model=model, input="Hello!", instructions="Be brief.")
    check(text.status in ("completed", "incomplete"), f"{model}: status {text.status}")
    check(text.output_text, f"{model}: empty output_text")
    check(text.usage is not None and text.usage.total_tokens > 0, f"{model}: no usage")

    follow = client.responses.create(model=model, input="And now?", previous_response_id=text.id)
    check(follow.previous_response_id == text.id, f"{model}: previous_response_id not echoed")

    tooled = client.responses.create(model=model, input="Weather in Paris?", tools=TOOLS)
    calls = [item for item in tooled.output if item.type == "function_call"]
    check(calls, f"{model}: no function_call in {tooled.output}")
    json.loads(calls[0].arguments)
    answered = client.responses.create(
        model=model,
        previous_response_id=tooled.id,
        tools=TOOLS,
        input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": '{"temp_c": 21}'}],
    )
    check(answered.status == "completed", f"{model}: follow-up status {answered.status}")

    structured = client.responses.create(
        model=model,
        input="Answer as JSON",
        text={"format": {"type": "json_schema", "name": "answer", "strict": True,
                         "schema": {"type": "object", "properties": {"a": {"type": "string"}},
                                    "required": ["a"], "additionalProperties": False}}},
    )
    check(structured.text.format.type == "json_schema", f"{model}: format not echoed")

    deltas = []
    with client.responses.stream(model=model, input="Hi there") as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    check(deltas, f"{model}: no text deltas streamed")
    check(final.status == "completed", f"{model}: streamed status {final.status}")
    check(final.output_text == "".join(deltas), f"{model}: final text differs from the deltas")


def main():
    base_url, models = sys.argv[1], sys.argv[2:]
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="not-checked", max_retries=0)
    for model in models:
        exercise(client, model)
        print(f"ok {model}")
    try:
        client.responses.create(model="no-such-model", input="x")
        raise AssertionError("unknown model did not fail")
    except openai.NotFoundError as err:
        check(err.status_code == 404, "unknown model is not a 404")
    try:
        client.responses.create(model=models[0], input="x", temperature=9)
        raise AssertionError("bad temperature did not fail")
    except openai.BadRequestError as err:
        check(err.body.get("param") == "temperature" or "temperature" in str(err), "param not named")
    print("ok errors")


if __name__ == "__main__":
    main()
