"""The bib rules a run reads with: the stack's bib lengths (template.yaml BibMinLength and
BibMaxLength) narrowed by the event's settings (its bib range, its participant list), which a
container reads at most once a minute per event (pipeline.events.settings.Cached). DetectText and
SecondLook read with the same rules."""

from pipeline.common import clients
from pipeline.common.config import get_config
from pipeline.events.settings import Cached, EventSettings
from pipeline.processing.bibs import BibRules
from pipeline.store import Store


def _load_settings(org_id: str, event_id: str) -> EventSettings:
    store = Store(clients.dynamodb_table(get_config().table_name))
    return EventSettings.from_item(store.settings.get(org_id, event_id, participants=True))


event_settings = Cached(_load_settings)


def stack_rules() -> BibRules:
    """The stack's bib lengths (BibRules' own where template.yaml sets none)."""
    config = get_config()
    return BibRules(
        min_length=BibRules.min_length if config.bib_min_length is None else config.bib_min_length,
        max_length=BibRules.max_length if config.bib_max_length is None else config.bib_max_length,
    )


def rules_for(settings: EventSettings) -> BibRules:
    return stack_rules().for_event(settings.bib_range, settings.participants)
