"""The /api routes (docs/api.md), one module per concept: jobs, their files, and the page's config."""

from __future__ import annotations

from fastapi import APIRouter

from backend.api.routes import config, jobs, media, rerun, session, uploads, usage, watch

router = APIRouter(prefix="/api")
router.include_router(jobs.router)
router.include_router(media.router)
router.include_router(rerun.router)
router.include_router(uploads.router)
router.include_router(config.router)
router.include_router(usage.router)
router.include_router(session.router)
router.include_router(watch.router)
#: Pages outside /api: the watch page of a share link (/w/<token>).
pages = watch.pages

__all__ = ["pages", "router"]
