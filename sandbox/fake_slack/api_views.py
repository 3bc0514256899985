"""views.open / views.push / views.update / views.publish handlers."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import sandbox.fake_slack.limits as limits

from .api_chat import json_param
from .store import ApiError

if TYPE_CHECKING:
    from .host import Host
    from .store import Trigger, Workspace


def view_param(params: dict) -> dict:
    view = json_param(params, "view", "invalid_arguments")
    if not isinstance(view, dict):
        raise ApiError(
            "invalid_arguments",
            messages=["[ERROR] missing required field: view [json-pointer:/view]"],
        )
    return view


def validate_view(kind: str, view: dict) -> None:
    found = limits.problems(kind, view)
    if found:
        raise ApiError("invalid_arguments", messages=found)


def _trigger(fake: Host, params: dict) -> Trigger:
    """Check the trigger now; it is only spent once the whole call succeeds."""
    trigger_id = params.get("trigger_id") or params.get("interactivity_pointer")
    if not trigger_id:
        raise ApiError(
            "invalid_arguments",
            messages=["[ERROR] missing required field: trigger_id [json-pointer:/trigger_id]"],
        )
    ws = fake.workspace
    trig = ws.exchange_trigger(trigger_id, fake.clock())
    trig.used = False
    return trig


def _response(view: dict) -> dict:
    return {"view": copy.deepcopy(view)}


def views_open(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    trig = _trigger(fake, params)
    spec = view_param(params)
    validate_view("modal", spec)
    ws.check_external_id(spec.get("external_id"))
    view = ws.make_view(spec)
    trig.used = True
    ws.open_stack(trig.user_id, view)
    return _response(view)


def views_push(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    trig = _trigger(fake, params)
    spec = view_param(params)
    if spec.get("type") != "modal":
        raise ApiError(
            "invalid_arguments",
            messages=[
                "[ERROR] must match the `type` of the root view whose stack we're pushing onto "
                "[json-pointer:/view/type]"
            ],
        )
    validate_view("modal", spec)
    ws.check_external_id(spec.get("external_id"))
    if not ws.stacks.get(trig.user_id):
        raise ApiError("not_found")
    view = ws.make_view(spec)
    ws.push_view(trig.user_id, view)
    trig.used = True
    return _response(view)


def check_hash(view: dict, given: Any) -> None:
    if given and given != view["hash"]:
        raise ApiError("hash_conflict")


def views_update(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    spec = view_param(params)
    old = ws.find_view(params.get("view_id"), params.get("external_id"))
    if spec.get("type") != old["type"]:
        raise ApiError(
            "invalid_arguments",
            messages=[f"[ERROR] must be one of {old['type']} [json-pointer:/view/type]"],
        )
    validate_view(old["type"], spec)
    check_hash(old, params.get("hash"))
    ws.check_external_id(spec.get("external_id"), own_view_id=old["id"])
    return _response(ws.replace_view(old, spec))


def publish_home(ws: Workspace, user_id: str, spec: dict) -> dict:
    current_id = ws.homes.get(user_id)
    if current_id is not None:
        return ws.replace_view(ws.views[current_id], spec)
    view = ws.make_view(spec)
    view["root_view_id"] = view["id"]
    ws.store_view(view, user_id)
    ws.homes[user_id] = view["id"]
    return view


def views_publish(fake: Host, params: dict) -> dict:
    ws = fake.workspace
    user = ws.user(params.get("user_id"))
    spec = view_param(params)
    validate_view("home", spec)
    current_id = ws.homes.get(user["id"])
    if current_id is not None:
        check_hash(ws.views[current_id], params.get("hash"))
    ws.check_external_id(spec.get("external_id"), own_view_id=current_id)
    return _response(publish_home(ws, user["id"], spec))


METHODS = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
