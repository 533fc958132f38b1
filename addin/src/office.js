// Office.js callbacks as promises, and reading whole files in slices.

/** Call an Office "...Async(args..., callback)" method and resolve with its value. */
export function officeAsync(target, method, ...args) {
  return new Promise((resolve, reject) => {
    target[method](...args, (result) => {
      if (result.status === "succeeded" || result.status === globalThis.Office?.AsyncResultStatus?.Succeeded) resolve(result.value);
      else reject(new Error(result.error?.message || `${method} failed`));
    });
  });
}

export function base64ToBytes(b64) {
  const binary = atob(b64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function bytesToBase64(bytes) {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  return btoa(binary);
}

export async function blobToBase64(blob) {
  return bytesToBase64(new Uint8Array(await blob.arrayBuffer()));
}

/**
 * The open document as bytes: `getFileAsync` in slices of at most 4 MB (Office's limit), each slice
 * read in turn, the file closed afterwards even when a slice fails. `fileType` is "compressed" or "pdf".
 */
export async function readDocument(document, fileType, onProgress = () => {}) {
  const file = await officeAsync(document, "getFileAsync", fileType, { sliceSize: 4 * 1024 * 1024 });
  try {
    const parts = [];
    for (let index = 0; index < file.sliceCount; index += 1) {
      const slice = await officeAsync(file, "getSliceAsync", index);
      parts.push(slice.data instanceof Uint8Array ? slice.data : Uint8Array.from(slice.data));
      onProgress((index + 1) / file.sliceCount);
    }
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) { bytes.set(part, offset); offset += part.length; }
    return bytes;
  } finally {
    await officeAsync(file, "closeAsync").catch(() => {});
  }
}
