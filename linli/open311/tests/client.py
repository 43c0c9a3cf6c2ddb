"""A client of our own that speaks GeoReport v2 as the spec writes it (open311.md):
form-encoded UTF-8 POSTs, a .xml or .json suffix on every resource, and answers read back
into the same Python shape from either format (XML parsed with defusedxml). It drives
Django's test client, or any base URL through `requests` (the live server)."""

from urllib.parse import urlencode

import requests
from defusedxml import ElementTree

ROOT = "/open311/v2"
# Elements that hold a list in XML (<attributes><attribute>…); the rest are scalars.
LISTS = {"endpoints", "formats", "attributes", "values", "notes", "photos", "errors"}


def _value(element):
    children = list(element)
    if element.tag in LISTS:
        return [_value(child) for child in children]
    if children:
        return {child.tag: _value(child) for child in children}
    return element.text or ""


def parse(fmt: str, body: bytes):
    """The answer as Python: a list for a list resource (services, requests, errors…), a
    dict for an object (discovery, service_definition); XML scalars are strings."""
    if fmt == "json":
        import json

        return json.loads(body)
    root = ElementTree.fromstring(body)
    if root.tag in ("discovery", "service_definition"):
        return {child.tag: _value(child) for child in root}
    return [_value(child) for child in root]


class Answer:
    def __init__(self, status: int, headers, body: bytes, fmt: str):
        self.status = status
        self.headers = headers
        self.body = body
        self.fmt = fmt

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]

    @property
    def data(self):
        return parse(self.fmt, self.body)

    def error_texts(self) -> list[str]:
        return [str(e["description"]) for e in self.data]


class Open311Client:
    def __init__(self, client=None, *, base_url: str = "", api_key: str = "", language=""):
        self.client = client
        self.base_url = base_url
        self.api_key = api_key
        self.language = language

    def _headers(self) -> dict:
        return {"Accept-Language": self.language} if self.language else {}

    def _answer(self, fmt, response) -> Answer:
        if self.client is not None:
            return Answer(response.status_code, response, response.content, fmt)
        return Answer(response.status_code, response.headers, response.content, fmt)

    def get(self, resource: str, fmt: str = "json", **params) -> Answer:
        url = f"{ROOT}/{resource}.{fmt}"
        if self.client is not None:
            response = self.client.get(url, params, headers=self._headers())
        else:
            response = requests.get(
                self.base_url + url, params=params, headers=self._headers(), timeout=30
            )
        return self._answer(fmt, response)

    def post(self, resource: str, fmt: str = "json", *, files=None, key=True, **fields):
        """A form-encoded POST (multipart when `files` are given), with the api_key in the
        body unless `key` is False; list values repeat their field."""
        url = f"{ROOT}/{resource}.{fmt}"
        data = dict(fields)
        if key and self.api_key:
            data.setdefault("api_key", self.api_key)
        if self.client is not None:
            if files:
                response = self.client.post(url, {**data, **files}, headers=self._headers())
            else:
                body = urlencode(data, doseq=True)
                response = self.client.post(
                    url,
                    body,
                    content_type="application/x-www-form-urlencoded; charset=utf-8",
                    headers=self._headers(),
                )
        else:
            response = requests.post(
                self.base_url + url, data=data, files=files, headers=self._headers(), timeout=30
            )
        return self._answer(fmt, response)

    def file(self, fmt: str = "json", **fields) -> Answer:
        return self.post("requests", fmt, **fields)
