"""``B24Page.fetch``: how every page script calls our page APIs with its page bearer.

``B24Page.fetch(cfg, url, options)`` is ``fetch`` with ``Authorization: Bearer
<cfg.bearer>``. When the answer is 401 (the bearer expired: an admin's lives five minutes,
``app.widgets._viewer.ADMIN_BEARER_TTL_S``), it asks ``/pages/<cfg.member>/bearer``
(``app.handlers.page_bearer``) for a new one with the viewer's current portal token, keeps
it in ``cfg.bearer`` and sends the request once more; a 401 is a refusal before anything
was done, so sending again cannot double an effect. Whether the viewer is still an admin is
then what the portal says now.

The token comes from the BX24 library: ``BX24.getAuth()``, or — when it answers ``false``
(the token expired) — ``BX24.refreshAuth`` (sdk/bx24-js-sdk/system-functions/
bx24-get-auth.md, bx24-refresh-auth.md). It goes only to our own server, in a POST body,
never into a URL or storage. Without the library (a page opened outside the portal) the
first 401 stands and the page says to reopen it.

Loaded in the head of every page (``app.widgets.PAGE``), before the page's own scripts.
"""

PAGE_JS = """<script id="b24-page-js">
window.B24Page=(function(){
function token(){return new Promise(function(done){
 var auth=false;try{auth=window.BX24&&BX24.getAuth();}catch(e){}
 if(auth&&auth.access_token){done(auth.access_token);return;}
 try{if(window.BX24&&BX24.refreshAuth){
  var t=setTimeout(function(){done("");},5000);
  BX24.refreshAuth(function(a){clearTimeout(t);done(a&&a.access_token||"");});return;}}catch(e){}
 done("");});}
function renew(cfg){return token().then(function(t){if(!t)return false;
 return fetch("/pages/"+encodeURIComponent(cfg.member)+"/bearer?lang="+(cfg.lang||"ru"),
  {method:"POST",headers:{"Content-Type":"application/json"},body:JSON.stringify({auth:t})})
 .then(function(r){return r.ok?r.json():null;})
 .then(function(d){if(!d||!d.bearer)return false;cfg.bearer=d.bearer;return true;})
 .catch(function(){return false;});});}
function send(cfg,url,options){var o={},h={},k;options=options||{};
 for(k in options)o[k]=options[k];
 for(k in (options.headers||{}))h[k]=options.headers[k];
 h.Authorization="Bearer "+cfg.bearer;o.headers=h;return fetch(url,o);}
return {fetch:function(cfg,url,options){return send(cfg,url,options).then(function(r){
 if(r.status!==401)return r;
 return renew(cfg).then(function(ok){return ok?send(cfg,url,options):r;});});}};
})();
</script>"""
