"""An incremental update written by pyHanko, not by us: `update.py page|content IN OUT`
appends a revision that adds a page at the end (`page`) or draws on page 1 (`content`)."""
import sys
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content import RawContent
mode, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
with open(src, "rb") as f:
    w = IncrementalPdfFileWriter(f)
    if mode == "page":
        stream = w.add_object(generic.StreamObject(stream_data=b"BT /F1 24 Tf 72 720 Td (added later) Tj ET"))
        page = generic.DictionaryObject({
            generic.NameObject("/Type"): generic.NameObject("/Page"),
            generic.NameObject("/MediaBox"): generic.ArrayObject([generic.NumberObject(0), generic.NumberObject(0), generic.NumberObject(595), generic.NumberObject(842)]),
            generic.NameObject("/Contents"): stream,
            generic.NameObject("/Resources"): generic.DictionaryObject(),
        })
        w.insert_page(page)
    else:
        stream = w.add_object(generic.StreamObject(stream_data=b"q 1 0 0 rg 100 100 200 200 re f Q"))
        w.add_stream_to_page(0, stream)
    with open(dst, "wb") as o:
        w.write(o)
