// Office.js is loaded by URL from the server's setting (Microsoft's CDN in production, the npm
// package locally); a test page that already provides `Office` is used as it is.

export function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

export async function loadOffice() {
  const config = await (await fetch("/api/addin/config")).json();
  if (!globalThis.Office) await loadScript(config.office_js);
  const info = await new Promise((resolve) => globalThis.Office.onReady(resolve));
  return { config, info };
}
