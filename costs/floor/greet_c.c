/* Lesson 11's floor: lesson 2's `greet` as a C extension would write it.
 *
 * METH_O, so CPython passes the argument as it is, and one allocation: the
 * result is made at its final length and kind, then the characters are
 * copied in. For every str it returns what lesson 2 returns; a lone
 * surrogate raises the same UnicodeEncodeError. scripts/floor.py builds it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

static const char prefix[] = "Hello, ";
#define PREFIX_LENGTH ((Py_ssize_t)(sizeof(prefix) - 1))

static PyObject *
greet(PyObject *module, PyObject *name)
{
    (void)module;
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "expected str, got %.200s", Py_TYPE(name)->tp_name);
        return NULL;
    }
    /* Lesson 2 refuses a str that UTF-8 cannot encode; this also makes a
       legacy str (before Python 3.12) ready for the macros below. */
    if (PyUnicode_AsUTF8AndSize(name, NULL) == NULL) {
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(name);
    /* The prefix is ASCII, so the result has the name's kind. */
    PyObject *result = PyUnicode_New(PREFIX_LENGTH + length + 1, PyUnicode_MAX_CHAR_VALUE(name));
    if (result == NULL) {
        return NULL;
    }
    int kind = PyUnicode_KIND(result);
    void *data = PyUnicode_DATA(result);
    if (kind == PyUnicode_1BYTE_KIND) {
        memcpy(data, prefix, PREFIX_LENGTH);
    } else {
        for (Py_ssize_t i = 0; i < PREFIX_LENGTH; i++) {
            PyUnicode_WRITE(kind, data, i, prefix[i]);
        }
    }
    memcpy((char *)data + PREFIX_LENGTH * kind, PyUnicode_DATA(name), (size_t)(length * kind));
    PyUnicode_WRITE(kind, data, PREFIX_LENGTH + length, '!');
    return result;
}

static PyMethodDef methods[] = {
    {"greet", greet, METH_O, "greet($module, string, /)\n--\n\n"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "greet_c", NULL, -1, methods};

PyMODINIT_FUNC
PyInit_greet_c(void)
{
    return PyModule_Create(&module);
}
