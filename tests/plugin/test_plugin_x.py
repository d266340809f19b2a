def test_x(pytester):
    pytester.makepyfile("def test_a(): pass")
    pytester.runpytest_inprocess().assert_outcomes(passed=1)
    pytester.runpytest().assert_outcomes(passed=1)
