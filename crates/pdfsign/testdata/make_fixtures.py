"""Makes the PDF fixtures of crates/pdfsign/tests once, with producers independent of ours.

Run with reportlab 4.4.4 installed (pip install reportlab==4.4.4) and Debian's qpdf:
    python3 make_fixtures.py && qpdf --object-streams=generate --compress-streams=y \
        three-pages-classic.pdf three-pages-objstm.pdf && rm three-pages-classic.pdf
"""
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas


def document(path, pages, invariant=1):
    c = canvas.Canvas(path, pagesize=A4, invariant=invariant)
    c.setTitle("elicense fixture")
    for n in range(1, pages + 1):
        c.setFont("Helvetica", 24)
        c.drawString(72, 760, f"Page {n} of {pages}")
        c.setFont("Helvetica", 11)
        for k in range(10):
            c.drawString(72, 700 - 18 * k, f"Line {k + 1}: a fixture for sealing tests.")
        c.showPage()
    c.save()


document("ten-pages-classic.pdf", 10)
document("three-pages-classic.pdf", 3)
