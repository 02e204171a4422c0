"""An upload becomes an indexed photo: which execution an S3 event starts (uploads) and how fast
(pacing); the steps: preprocess and images (Preprocess), bibs and reading (DetectText), faces (IndexFaces),
links, second_look and look_again (SecondLook), save, replacement and results (SaveResults,
RecordRejection/RecordFailure, DeletePhoto)."""
