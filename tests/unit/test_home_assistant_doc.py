"""docs/home-assistant.md: its YAML loads, and every watch-feed field it reads exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from sync.web.schemas import WatchOut

DOC = Path(__file__).resolve().parents[2] / "docs" / "home-assistant.md"


class _Loader(yaml.SafeLoader):
    """Home Assistant's YAML: `!secret name` is a tag of its own."""


_Loader.add_constructor("!secret", lambda loader, node: f"<secret {loader.construct_scalar(node)}>")


def _blocks() -> list[dict]:
    text = DOC.read_text(encoding="utf-8")
    return [yaml.load(b, Loader=_Loader) for b in re.findall(r"```yaml\n(.*?)```", text, re.S)]


def test_the_sensor_and_the_automation_read_only_fields_of_the_watch_feed() -> None:
    fields = set(WatchOut.model_fields)
    rest, automation = _blocks()
    sensor_conf = rest["rest"][0]
    assert sensor_conf["resource"].endswith("/v1/watch")
    assert sensor_conf["headers"]["Authorization"] == "<secret legday_token>"
    sensor = sensor_conf["sensor"][0]
    read = set(re.findall(r"value_json\.(\w+)", sensor["value_template"])) | set(sensor["json_attributes"])
    rule = automation["automation"][0]
    entity = "sensor." + sensor["name"].replace(" ", "_")
    assert rule["trigger"][0]["entity_id"] == entity and rule["trigger"][0]["to"] == "REST"
    message = rule["action"][0]["data"]["message"]
    attrs = re.findall(r"state_attr\('([\w.]+)', '(\w+)'\)", message)
    assert attrs and {e for e, _ in attrs} == {entity}
    read |= {a for _, a in attrs}
    assert read and read <= fields, read - fields
    assert "flag" in read and "updated" in read and {"max_minutes", "max_hr"} <= read
