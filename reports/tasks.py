from reports.report_tasks import schedule_from_milestones_task  # noqa: F401
