"""Run notes: the faces a run indexed, noted before the run uses them, until the run ends.

| run faces | ORG#{orgId}#EVT#{eventId}   | FACES#{photoId}#{execution} |  faceIds

If a step's answer is lost (a timeout) and it runs again, the run's end still finds and deletes
the first faces (pipeline.processing.results).
"""

from pipeline.store.core import Items, event_pk

RUN_FACES_PREFIX = "FACES#"


def run_faces_sk(photo_id: str, execution_name: str) -> str:
    return f"{RUN_FACES_PREFIX}{photo_id}#{execution_name}"


class RunNotes(Items):
    def record_faces(self, org_id: str, event_id: str, photo_id: str, execution: str, face_ids) -> None:
        if face_ids:
            self.core.table.update_item(
                Key={"PK": event_pk(org_id, event_id), "SK": run_faces_sk(photo_id, execution)},
                UpdateExpression="ADD faceIds :ids",
                ExpressionAttributeValues={":ids": set(face_ids)},
            )

    def of_photo(self, org_id: str, event_id: str, photo_id: str) -> dict[str, set[str]]:
        """Execution name -> face ids, for every run of the photo whose note is still there."""
        prefix = run_faces_sk(photo_id, "")
        return {
            item["SK"][len(prefix) :]: set(item.get("faceIds", set()))
            for item in self.core.query_prefix(event_pk(org_id, event_id), prefix, consistent=True)
        }

    def photos_in_flight(self, org_id: str, event_id: str) -> set[str]:
        """Photo ids with a run-faces note: a run that indexed faces and has not finished."""
        notes = self.core.query_prefix(event_pk(org_id, event_id), RUN_FACES_PREFIX, consistent=True)
        return {item["SK"][len(RUN_FACES_PREFIX) :].split("#", 1)[0] for item in notes}

    def forget(self, org_id: str, event_id: str, photo_id: str, executions) -> None:
        """Drop the face notes of runs that have ended."""
        pk = event_pk(org_id, event_id)
        self.core.delete_items(
            [{"PK": pk, "SK": run_faces_sk(photo_id, name)} for name in sorted(set(executions))]
        )
