import type { Context } from "hono";
import type { AppEnv } from "../bindings";

/**
 * D1 read replication for the principal read (the one query every authenticated request makes).
 * Without a bookmark the read may be served by the nearest replica ("first-unconstrained"); a
 * client that sends back the bookmark of an earlier response reads a replica at least that fresh,
 * so it always sees its own writes. Mutating requests answer with the primary's bookmark after
 * their write. Revocation delay this implies: docs/ARCHITECTURE.md.
 */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

/** Bookmarks are opaque, short and printable; anything else is ignored rather than passed to D1. */
const BOOKMARK_SHAPE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request's D1 session for reads; its bookmark goes on the response. */
export function readReplicaSession(c: Context<AppEnv>): D1DatabaseSession {
  const given = c.req.header(BOOKMARK_HEADER);
  const session = c.env.DB.withSession(given !== undefined && BOOKMARK_SHAPE.test(given) ? given : "first-unconstrained");
  c.set("readSession", session);
  return session;
}

function setHeader(c: Context<AppEnv>, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    // Responses passed through from fetch() have immutable headers.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(name, value);
  }
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Puts the freshest bookmark this request knows on its response: after a successful write, the
 * primary's (one cheap read there, so the client's next request sees the write on any replica);
 * otherwise the one the principal read returned.
 */
export async function writeBookmark(c: Context<AppEnv>): Promise<void> {
  const session = c.get("readSession");
  if (!session) return;
  let bookmark = session.getBookmark();
  if (!SAFE_METHODS.has(c.req.method) && c.res.status < 400) {
    const primary = c.env.DB.withSession("first-primary");
    await primary.prepare("select 1").first();
    bookmark = primary.getBookmark() ?? bookmark;
  }
  if (bookmark) setHeader(c, BOOKMARK_HEADER, bookmark);
}
