"""The add-on's deployment file (`gcloud workspace-add-ons deployments create … --deployment-file=`),
rendered for the public base URL from the template in manifest/google/.

Scopes are the narrowest that work: Gmail's per-message scopes (the open message only), Drive's
per-file scope (only files the user grants the add-on from Docs, Sheets or Drive) and the user's
address. Google signs each call with an ID token of the add-on's service account in the
Authorization header (httpOptions' default, SYSTEM_ID_TOKEN), which the add-on endpoints verify.
"""
from __future__ import annotations

import json
from pathlib import Path

from server.addins.manifests import check_base_url

TEMPLATE = Path(__file__).resolve().parents[2] / "manifest" / "google" / "deployment.json"
FILENAME = "google-deployment.json"


def render(base_url: str) -> dict:
    text = TEMPLATE.read_text(encoding="utf-8").replace("{{BASE}}", check_base_url(base_url))
    return json.loads(text)


def write(out_dir: Path, base_url: str) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / FILENAME
    path.write_text(json.dumps(render(base_url), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
