"""Shapes of the notifications API. Title and body come rendered in the language the
client asks for (Accept-Language), like every other message of the API."""

from datetime import datetime

from ninja import Schema
from pydantic import Field

from linli.notifications.registry import render


class NotificationOut(Schema):
    id: int
    kind: str = Field(description="What happened, e.g. case_dispatched")
    title: str
    body: str
    link: str = Field(description="A path on this site to open, or empty")
    object_ref: str = Field(description='What it is about, e.g. "case:123", or empty')
    created_at: datetime
    read_at: datetime | None

    @staticmethod
    def resolve_title(notification) -> str:
        return render(notification)[0]

    @staticmethod
    def resolve_body(notification) -> str:
        return render(notification)[1]


class ReadAllOut(Schema):
    marked: int = Field(description="How many were unread")
