"""Recognition models, one module per sub-domain."""

from recognition.models.config import AreaClass, FormLock, LockExtension, ReviewChain, Stage
from recognition.models.criteria import (
    CriteriaSet,
    Criterion,
    Indicator,
    ScoringMethod,
    SetStatus,
)
from recognition.models.cycle import (
    Assessment,
    AssessmentStatus,
    Dossier,
    DossierStatus,
    DossierSubmission,
    Evidence,
    IndicatorScore,
    Registration,
    RegistrationStatus,
)
from recognition.models.decision import (
    Certificate,
    Decision,
    DecisionCounter,
    DecisionItem,
    DecisionKind,
    DecisionStatus,
    IssuerProfile,
    SigningForm,
)
from recognition.models.personal_data import AccessAction, PersonalDataAccess
from recognition.models.subjects import Citizen, Clan, Household, LabourGroup, Organisation

__all__ = [
    "AccessAction",
    "AreaClass",
    "Assessment",
    "AssessmentStatus",
    "Certificate",
    "Citizen",
    "Clan",
    "CriteriaSet",
    "Criterion",
    "Decision",
    "DecisionCounter",
    "DecisionItem",
    "DecisionKind",
    "DecisionStatus",
    "Dossier",
    "DossierStatus",
    "DossierSubmission",
    "Evidence",
    "FormLock",
    "Household",
    "Indicator",
    "IndicatorScore",
    "IssuerProfile",
    "LabourGroup",
    "LockExtension",
    "Organisation",
    "PersonalDataAccess",
    "Registration",
    "RegistrationStatus",
    "ReviewChain",
    "ScoringMethod",
    "SetStatus",
    "SigningForm",
    "Stage",
]
