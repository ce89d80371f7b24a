"""Audio description (тифлокомментарии): a spoken description track and a WebVTT for blind viewers."""

from adapter.description.detector import CenterNetDetector, Describer, OnnxCaptioner
from adapter.description.engine import DescriptionResult, build_describer, describe
from adapter.description.ocr import TesseractReader, TextLine, TextReader
from adapter.description.placement import Cue
from adapter.description.sentences import Detection
from adapter.description.speech import EspeakSpeaker, Speaker, Speech

__all__ = [
    "CenterNetDetector",
    "Cue",
    "Describer",
    "DescriptionResult",
    "Detection",
    "EspeakSpeaker",
    "OnnxCaptioner",
    "Speaker",
    "Speech",
    "TesseractReader",
    "TextLine",
    "TextReader",
    "build_describer",
    "describe",
]
