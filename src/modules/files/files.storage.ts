/**
 * R2 access for uploaded files. Keys are generated (`files/<owner id>/<file id>`), never derived
 * from a user-supplied name, so a name can never address another object.
 */

/** Prefix of every uploaded object; the sweep lists under it. */
export const FILES_PREFIX = "files/";

/** R2's DeleteObjects accepts at most 1000 keys per call. */
const DELETE_CHUNK = 1000;

/** The R2 key of a file: derived from ids only. */
export function objectKey(ownerId: string, fileId: string): string {
  return `${FILES_PREFIX}${ownerId}/${fileId}`;
}

/** Prefix of all objects of one owner. */
export function ownerPrefix(ownerId: string): string {
  return `${FILES_PREFIX}${ownerId}/`;
}

/**
 * Deletes every object stored for `ownerId` (used when a user is deleted). Lists the owner's
 * prefix page by page and deletes in chunks R2 accepts.
 *
 * @returns the number of objects deleted
 */
export async function deleteOwnerObjects(bucket: R2Bucket, ownerId: string): Promise<number> {
  let deleted = 0;
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix: ownerPrefix(ownerId), cursor, limit: DELETE_CHUNK });
    const keys = page.objects.map((object) => object.key);
    for (let start = 0; start < keys.length; start += DELETE_CHUNK) {
      const chunk = keys.slice(start, start + DELETE_CHUNK);
      await bucket.delete(chunk);
      deleted += chunk.length;
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return deleted;
}
