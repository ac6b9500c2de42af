// Drives the Vercel AI SDK (`ai` 7 with `@ai-sdk/open-responses`), unchanged, through the gateway.
// Usage: node ai_sdk.mjs BASE_URL MODEL [MODEL ...]. For each MODEL: generateText, streamText,
// and a tool loop (the model calls `get_weather`, the SDK runs it and sends the result back, the
// model answers). Prints "ok MODEL" per model; exits non-zero on any failure.
import { generateText, isStepCount, streamText, tool } from "ai";
import { createOpenResponses } from "@ai-sdk/open-responses";
import { z } from "zod";

const [baseUrl, ...models] = process.argv.slice(2);
const gateway = createOpenResponses({ url: `${baseUrl}/v1/responses`, name: "gateway", apiKey: "unused" });

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const calls = [];
const getWeather = tool({
  description: "The weather in a city.",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => {
    calls.push(city);
    return `18C and sunny in ${city}`;
  },
});

for (const model of models) {
  const text = await generateText({ model: gateway(model), prompt: "Hello!" });
  check(text.text.length > 0, `${model}: empty text`);

  const stream = streamText({ model: gateway(model), prompt: "Hello!" });
  let streamed = "";
  for await (const delta of stream.textStream) streamed += delta;
  check(streamed.length > 0, `${model}: empty stream`);

  const before = calls.length;
  const looped = await generateText({
    model: gateway(model),
    prompt: "Weather in Paris?",
    tools: { get_weather: getWeather },
    stopWhen: isStepCount(3),
  });
  check(calls.slice(before).join() === "Paris", `${model}: tool calls ${calls.slice(before)}`);
  check(looped.steps.length >= 2, `${model}: ${looped.steps.length} steps`);
  check(looped.text.length > 0, `${model}: no answer after the tool`);
  console.log(`ok ${model}`);
}
