"""/api/v1/ routes (SPEC §4.5)."""

from django.urls import re_path
from rest_framework.routers import SimpleRouter

from accountability.api import (
    AllocationViewSet,
    AssessmentSchemeViewSet,
    AssessmentViewSet,
    DepartmentViewSet,
    GapViewSet,
)
from core.api import not_found
from districts.api import DataValueViewSet, OrgUnitViewSet, UploadViewSet
from duban.api import InstructionViewSet, TaskViewSet
from reports.api import ProgressViewSet
from targets.api import DataElementViewSet, IndicatorViewSet, PlanViewSet
from targets.extraction.api import ExtractionViewSet

app_name = "api"

router = SimpleRouter(trailing_slash=True)
router.register("org-units", OrgUnitViewSet, basename="org-unit")
router.register("plans", PlanViewSet, basename="plan")
router.register("indicators", IndicatorViewSet, basename="indicator")
router.register("data-elements", DataElementViewSet, basename="data-element")
router.register("data-values", DataValueViewSet, basename="data-value")
router.register("uploads", UploadViewSet, basename="upload")
router.register("progress", ProgressViewSet, basename="progress")
router.register("extractions", ExtractionViewSet, basename="extraction")
router.register("tasks", TaskViewSet, basename="task")
router.register("instructions", InstructionViewSet, basename="instruction")
router.register("departments", DepartmentViewSet, basename="department")
router.register("allocations", AllocationViewSet, basename="allocation")
router.register("gaps", GapViewSet, basename="gap")
router.register("assessment-schemes", AssessmentSchemeViewSet, basename="assessment-scheme")
router.register("assessments", AssessmentViewSet, basename="assessment")

urlpatterns = [*router.urls, re_path(r"^.*$", not_found, name="not-found")]
