"""PostgreSQL: a trigger refuses UPDATE and DELETE on the audit table.

Row-level, so TRUNCATE (test flushes) is not affected, and a DELETE matching no
row passes. Maintenance that must remove a tenant's events goes through
``core.audit.purge_tenant_events`` (``session_replication_role = replica``).
Other databases rely on the append-only queryset and model.
"""

from django.db import migrations

TABLE = "core_auditevent"

CREATE = f"""
CREATE OR REPLACE FUNCTION core_auditevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
DROP TRIGGER IF EXISTS core_auditevent_append_only ON {TABLE};
CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_append_only();
"""

DROP = f"""
DROP TRIGGER IF EXISTS core_auditevent_append_only ON {TABLE};
DROP FUNCTION IF EXISTS core_auditevent_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_jobs")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
