"""Drives the official OpenAI Agents SDK, unchanged, through the gateway.

Usage: sdk_agents.py BASE_URL MODEL [MODEL ...]
For each MODEL: an agent with one function tool, run with Runner.run_sync and streamed with
Runner.run_streamed; the model (a mock upstream) calls the tool, the SDK runs it and sends its
result back, the model answers. Exits non-zero on any failure.
"""

import asyncio
import sys

from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
from openai import AsyncOpenAI

CALLS = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    CALLS.append(city)
    return f"18C and sunny in {city}"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def agent_for(base_url, model):
    client = AsyncOpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)
    return Agent(
        name="weather",
        instructions="Answer with the tool's result.",
        tools=[get_weather],
        model=OpenAIResponsesModel(model=model, openai_client=client),
    )


async def streamed(agent):
    result = Runner.run_streamed(agent, "Weather in Paris?")
    kinds = []
    async for event in result.stream_events():
        kinds.append(event.type)
    return result, kinds


def main():
    set_tracing_disabled(True)
    base_url, models = sys.argv[1], sys.argv[2:]
    for model in models:
        agent = agent_for(base_url, model)
        before = len(CALLS)
        result = Runner.run_sync(agent, "Weather in Paris?")
        check(CALLS[before:] == ["Paris"], f"{model}: tool calls {CALLS[before:]}")
        check(result.final_output, f"{model}: no final output")
        # A fresh client: the first one belongs to run_sync's event loop.
        result, kinds = asyncio.run(streamed(agent_for(base_url, model)))
        check(CALLS[before:] == ["Paris", "Paris"], f"{model}: streamed tool calls {CALLS[before:]}")
        check("raw_response_event" in kinds, f"{model}: no raw stream events in {set(kinds)}")
        check(result.final_output, f"{model}: streamed run has no final output")
        print(f"ok {model}")


if __name__ == "__main__":
    main()
