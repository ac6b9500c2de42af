"""Drives background responses with the official OpenAI Python SDK, unchanged.

Usage: sdk_background.py BASE_URL[,OTHER_BASE_URL] MODEL [MODEL ...]
With two base URLs (two replicas sharing Redis), responses are created on the first and polled,
resumed and cancelled on the second. Each MODEL is exercised with responses.create(background=True) (JSON and stream=True),
responses.retrieve (polling, and stream=True with starting_after to resume) and
responses.cancel (on MODEL-hang, which never answers upstream). Exits non-zero on any failure.
"""

import sys
import time

import openai

# A bound on polling, not a synchronisation delay.
PATIENCE_S = 15
POLL_S = 0.02


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def wait_for(client, response_id, statuses):
    deadline = time.monotonic() + PATIENCE_S
    while True:
        response = client.responses.retrieve(response_id)
        if response.status in statuses:
            return response
        check(time.monotonic() < deadline, f"{response_id} still {response.status}")
        time.sleep(POLL_S)


def exercise(creator, client, model):
    queued = creator.responses.create(model=model, input="Hello!", background=True)
    check(queued.status == "queued", f"{model}: created {queued.status}")
    check(queued.background is True, f"{model}: background not echoed")
    done = wait_for(client, queued.id, ("completed", "failed", "incomplete", "cancelled"))
    check(done.status == "completed", f"{model}: ended {done.status}")
    check(done.output_text, f"{model}: empty output_text")

    # Replay after sequence number 2: everything from 3 to the terminal event.
    events = list(client.responses.retrieve(queued.id, stream=True, starting_after=2))
    check(events[0].sequence_number == 3, f"{model}: resumed at {events[0].sequence_number}")
    numbers = [e.sequence_number for e in events]
    check(numbers == list(range(3, 3 + len(events))), f"{model}: gaps in {numbers}")
    check(events[-1].type == "response.completed", f"{model}: ended with {events[-1].type}")

    # A streamed background response left after a few events, then resumed.
    first = []
    stream = creator.responses.create(model=model, input="Hello!", background=True, stream=True)
    for event in stream:
        first.append(event)
        if len(first) == 4:
            break
    stream.close()
    check(first[0].type == "response.created" and first[1].type == "response.queued",
          f"{model}: stream began {[e.type for e in first]}")
    response_id = first[0].response.id
    rest = list(client.responses.retrieve(response_id, stream=True,
                                          starting_after=first[-1].sequence_number))
    numbers = [e.sequence_number for e in first + rest]
    check(numbers == list(range(len(numbers))), f"{model}: resumed with gaps {numbers}")
    check(rest[-1].type == "response.completed", f"{model}: resumed ended {rest[-1].type}")

    # Cancel one that is still waiting for its first upstream byte; again is a no-op.
    hanging = creator.responses.create(model=f"{model}-hang", input="Hello!", background=True)
    wait_for(client, hanging.id, ("in_progress",))
    cancelled = client.responses.cancel(hanging.id)
    check(cancelled.status == "cancelled", f"{model}: cancel gave {cancelled.status}")
    check(client.responses.cancel(hanging.id).status == "cancelled", f"{model}: cancel again")
    check(client.responses.retrieve(hanging.id).status == "cancelled", f"{model}: not stored")
    # Cancelling a finished one returns it unchanged.
    check(client.responses.cancel(queued.id).status == "completed", f"{model}: finished changed")


def main():
    base_urls, models = sys.argv[1].split(","), sys.argv[2:]
    clients = [openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
               for url in base_urls]
    for model in models:
        exercise(clients[0], clients[-1], model)
        print(f"ok {model}")


if __name__ == "__main__":
    main()
