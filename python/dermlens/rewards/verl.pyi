from typing import Any, Mapping, Optional, Union

DATA_SOURCE_PREFIX: str

def compute_score(data_source: str, solution_str: str, ground_truth: Union[str, Mapping[str, Any]],
                  extra_info: Optional[Mapping[str, Any]] = None) -> dict[str, float]: ...
