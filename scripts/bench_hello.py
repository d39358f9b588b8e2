"""The baseline of scripts/bench: the smallest FastAPI app, served exactly like the API (same flags, core, logging)."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
