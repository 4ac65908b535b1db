// SPDX-License-Identifier: LGPL-2.1-or-later
// The Vala bindings, fsthread-1.vapi: a Vala program built against them
// that runs threads and reads their errors back, with GTest's TAP output.

void test_thread_error () {
    var thread = new Fs.Thread ("vala-fail", (t) => {
        throw new IOError.BUSY ("from %s", t.get_name ());
    });
    try {
        thread.start ();
    } catch (Error e) {
        assert_no_error (e);
    }
    try {
        thread.join ();
        assert_not_reached ();
    } catch (IOError.BUSY e) {
        // The domain and code of the target's error, its message after
        // the thread's name.
        assert_true (e.message.has_suffix ("from vala-fail"));
    } catch (Error e) {
        assert_no_error (e);
    }
    assert_true (thread.get_has_error ());
}

void test_thread_result () {
    int sum = 0;
    var thread = new Fs.Thread ("vala-sum", () => {
        for (int i = 1; i <= 100; i++)
            sum += i;
        return true;
    });
    try {
        thread.start ();
        thread.join ();
    } catch (Error e) {
        assert_no_error (e);
    }
    assert_cmpint (sum, CompareOperator.EQ, 5050);
    assert_false (thread.get_has_error ());
}

void test_error_state () {
    var state = new Fs.ErrorState ();
    assert_false (state.get_has_error ());
    state.set (new IOError.NOT_FOUND ("first"));
    state.set (new IOError.FAILED ("second"));
    assert_cmpuint (state.get_n_errors (), CompareOperator.EQ, 2);
    try {
        state.re_raise ();
        assert_not_reached ();
    } catch (IOError.NOT_FOUND e) {
        assert_cmpstr (e.message, CompareOperator.EQ, "first");
    } catch (Error e) {
        assert_no_error (e);
    }
    state.clear ();
    assert_cmpuint (state.get_n_errors (), CompareOperator.EQ, 0);
}

void test_version () {
    assert_true (Fs.check_version (0, 1, 0));
    assert_true (Fs.total_cpus () >= 1);
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/thread/error", test_thread_error);
    Test.add_func ("/vala/thread/result", test_thread_result);
    Test.add_func ("/vala/error-state", test_error_state);
    Test.add_func ("/vala/version", test_version);
    return Test.run ();
}
