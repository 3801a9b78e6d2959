/** HTTP helpers of the server: JSON responses, errors as responses, a request body read with a limit. */

/** An error that is answered with `status` and a JSON body `{error, …extra}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Headers every API answer carries: results change, and types are what they say. */
const API_HEADERS = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(`${JSON.stringify(body)}\n`, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...API_HEADERS, ...headers },
  });
}

export function bytes(
  body: Uint8Array,
  type: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(body as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": type, ...API_HEADERS, ...headers },
  });
}

export const errorResponse = (err: HttpError): Response =>
  json(err.status, { error: err.message, ...err.extra }, err.headers);

/**
 * The body of `req` as text, refused with 413 once it passes `limit` bytes (whether or not it
 * declared its length), and with 415 unless it is JSON (which a plain HTML form cannot send).
 */
export async function readJsonBody(req: Request, limit: number): Promise<unknown> {
  const type = req.headers.get("content-type") ?? "";
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new HttpError(415, `send the request as JSON (content-type: application/json)`);
  }
  const tooLarge = () => new HttpError(413, `request bodies are limited to ${limit} bytes`);
  const declared = Number(req.headers.get("content-length") ?? 0);
  if (declared > limit) throw tooLarge();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (req.body) {
    for await (const chunk of req.body) {
      size += chunk.length;
      if (size > limit) throw tooLarge(); // leaving the loop cancels the rest of the body
      chunks.push(chunk);
    }
  }
  const text = new TextDecoder().decode(concat(chunks, size));
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not valid JSON: ${(err as Error).message}`, {
      field: null,
    });
  }
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
  return out;
}
