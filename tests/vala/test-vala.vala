// SPDX-License-Identifier: LGPL-2.1-or-later
// The Vala bindings, fsthread-1.vapi: a Vala program built against them,
// with GTest's TAP output. Streams are read with the blocking next_value
// and with `yield next_async`; threads' errors come back as Vala errors.

// A generator of 1..100, run on the stream's own thread.
Fs.BackgroundGenerator counter (string name) {
    return new Fs.BackgroundGenerator.for_values (4, name, (gen) => {
        for (int i = 1; i <= 100; i++) {
            if (!gen.yield_value (i))
                return false;    // the consumer closed the stream
        }
        return true;
    });
}

void test_stream_blocking () {
    var bg = counter ("vala-blocking");
    int sum = 0;
    Value item;
    Fs.WaitStatus status;
    try {
        while ((status = bg.next_value (-1, null, out item)) == Fs.WaitStatus.OK)
            sum += item.get_int ();
    } catch (Error e) {
        assert_no_error (e);
        return;
    }
    assert_true (status == Fs.WaitStatus.END);
    assert_cmpint (sum, CompareOperator.EQ, 5050);
}

async int sum_async (Fs.BackgroundGenerator bg) throws Error {
    int sum = 0;
    Value? item;
    while ((item = yield bg.next_async (null)) != null)
        sum += item.get_int ();
    return sum;
}

void test_stream_async () {
    var loop = new MainLoop ();
    var bg = counter ("vala-async");
    int sum = -1;
    sum_async.begin (bg, (obj, res) => {
        try {
            sum = sum_async.end (res);
        } catch (Error e) {
            assert_no_error (e);
        }
        loop.quit ();
    });
    loop.run ();
    assert_cmpint (sum, CompareOperator.EQ, 5050);
}

// Takes every string of @bg into @seen, then raises the stream's error.
async void take_strings (Fs.BackgroundGenerator bg, GenericArray<string> seen) throws Error {
    Value? item;
    while ((item = yield bg.next_async (null)) != null)
        seen.add (item.get_string ());
}

void test_stream_error_async () {
    var loop = new MainLoop ();
    var bg = new Fs.BackgroundGenerator.for_values (1, "vala-fails", (gen) => {
        gen.yield_value ("before");
        throw new IOError.BUSY ("after one item");
    });
    var seen = new GenericArray<string> ();
    Error? error = null;
    take_strings.begin (bg, seen, (obj, res) => {
        try {
            take_strings.end (res);
        } catch (Error e) {
            error = e;
        }
        loop.quit ();
    });
    loop.run ();
    // The item yielded before the error, then the error itself.
    assert_cmpuint (seen.length, CompareOperator.EQ, 1);
    assert_cmpstr (seen[0], CompareOperator.EQ, "before");
    assert_true (error is IOError.BUSY);
}

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
        thread.join (-1);
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
        assert_true (thread.join (-1) == Fs.WaitStatus.OK);
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
    assert_true (Fs.check_version (0, 2, 0));
    assert_true (Fs.total_cpus () >= 1);
}

int main (string[] args) {
    Test.init (ref args);
    Test.add_func ("/vala/stream/blocking", test_stream_blocking);
    Test.add_func ("/vala/stream/async", test_stream_async);
    Test.add_func ("/vala/stream/error-async", test_stream_error_async);
    Test.add_func ("/vala/thread/error", test_thread_error);
    Test.add_func ("/vala/thread/result", test_thread_result);
    Test.add_func ("/vala/error-state", test_error_state);
    Test.add_func ("/vala/version", test_version);
    return Test.run ();
}
