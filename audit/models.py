from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("audit events are append-only")

    def delete(self):
        raise TypeError("audit events are append-only")


class AuditEvent(models.Model):
    """One sensitive action: who did what to which object, when, and from where.

    Append-only: rows are never changed or deleted by the application (save() of an existing
    row and delete() refuse; on PostgreSQL a trigger refuses UPDATE and DELETE too). The actor is
    kept by id and name without a database constraint, so deleting a user keeps their trail.
    """

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_username = models.CharField(_("用户名"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=64, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username or '-'} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("audit events are append-only")
