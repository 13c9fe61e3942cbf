"""The local web page of ``packdepth serve`` (extra ``web``: FastAPI, uvicorn).

Floor: above :mod:`packdepth.inference` and :mod:`packdepth.apps`, beside
:mod:`packdepth.commands`; nothing below imports it. Files:

- :mod:`~packdepth.web.app`: :func:`~packdepth.web.app.create_app`, the routes and their errors;
- :mod:`~packdepth.web.analyse`: an image or video → the files the page shows and offers;
- :mod:`~packdepth.web.jobs`: uploads and results in the app's temporary folder;
- :mod:`~packdepth.web.models`: the models offered (given, or found in a folder);
- :mod:`~packdepth.web.examples`: the bundled synthetic examples (``static/examples``);
- ``static/``: the page (plain HTML, CSS, JavaScript) and three.js r170 (``vendor/``, MIT).
"""
