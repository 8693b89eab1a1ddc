"""The endpoint's request dispatch does not list moto's package directory on every request."""

from __future__ import annotations

import os

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from localcloud.server import cache_moto_module_list


def test_the_dispatcher_finds_the_same_backends_without_listing_moto(monkeypatch):
    app = DomainDispatcherApplication(create_backend_app)
    hosts = ["s3", "glue", "s3.amazonaws.com", "glue.us-east-1.amazonaws.com", "states.us-east-1.amazonaws.com"]
    before = [app.get_backend_for_host(h) for h in hosts]
    cache_moto_module_list()
    cache_moto_module_list()  # idempotent
    listed: list[str] = []
    real_listdir = os.listdir
    monkeypatch.setattr(os, "listdir", lambda p=".": listed.append(str(p)) or real_listdir(p))
    after = [app.get_backend_for_host(h) for h in hosts]
    assert after == before and before[:2] == ["s3", "glue"] and before[2] is not None
    assert listed == []
