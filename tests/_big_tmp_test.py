import os
import pytest
import tests.test_demo_data as T
from pipelines.demo_data import generate_demo
T.SCALE = int(os.environ.get("BIG_SCALE", "300000"))
@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    d = tmp_path_factory.mktemp("big")
    generate_demo(d, scale=T.SCALE)
    return d
truth = T.truth; streams = T.streams; regions = T.regions; checked = T.checked
test_quarantine_truth_is_exact = T.test_quarantine_truth_is_exact
test_findings_truth_is_exact = T.test_findings_truth_is_exact
test_defect_share = T.test_defect_share
test_identifiers_in_good_rows_are_valid = T.test_identifiers_in_good_rows_are_valid
test_truth_covers_reasons_and_findings = T.test_truth_covers_reasons_and_findings
test_not_a_defect_rows_load = T.test_not_a_defect_rows_load
