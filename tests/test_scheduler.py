"""Housekeeping: old redelivery records are forgotten, recent ones kept."""

from __future__ import annotations

from datetime import timedelta

from scheduler import build_scheduler, forget_old_inbound
from storage.inbound import first_delivery


async def test_old_inbound_ids_are_forgotten(db, config, clock):
    async with db.write() as conn:
        assert await first_delivery(conn, "telegram", "1", clock() - timedelta(days=30))
        assert await first_delivery(conn, "telegram", "2", clock() - timedelta(days=1))
    assert await forget_old_inbound(db, config, clock) == 1
    async with db.write() as conn:
        assert await first_delivery(conn, "telegram", "1", clock())  # forgotten: new again
        assert not await first_delivery(conn, "telegram", "2", clock())  # still known


async def test_scheduler_has_the_job_in_vietnam_time(db, config):
    scheduler = build_scheduler(db, config)
    job = scheduler.get_job("forget_old_inbound")
    assert str(job.trigger.timezone) == "Asia/Ho_Chi_Minh"
    assert scheduler.timezone.key == "Asia/Ho_Chi_Minh"
