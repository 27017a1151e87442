%% Control shim loaded into the benchmark's own ejabberd node (bench/targets/ejabberd.mjs compiles
%% it with erlc into the run's temp dir and starts it with `-s ejbench start`). It listens on a
%% loopback TCP port for one-line commands so the suite can provision accounts and rooms and seed
%% the MAM archive in bulk without paying an Erlang VM start per ejabberdctl call. Replies are one
%% line: "ok ..." or "error ...". Nothing here runs inside a measured window.
-module(ejbench).
-export([start/0]).

start() ->
    {ok, [[P]]} = init:get_argument(ejbench_port),
    Self = self(),
    spawn(fun() ->
        {ok, L} = gen_tcp:listen(list_to_integer(P), [binary, {packet, line}, {active, false},
                                                       {reuseaddr, true}, {ip, {127, 0, 0, 1}},
                                                       {recbuf, 1 bsl 20}]),
        Self ! listening,
        accept(L)
    end),
    receive listening -> ok after 5000 -> ok end.

accept(L) ->
    {ok, S} = gen_tcp:accept(L),
    Pid = spawn(fun() -> loop(S) end),
    ok = gen_tcp:controlling_process(S, Pid),
    accept(L).

loop(S) ->
    case gen_tcp:recv(S, 0) of
        {ok, Line} ->
            Words = binary:split(string:trim(Line), <<" ">>, [global]),
            Reply = try command(Words)
                    catch C:E:St ->
                        string:replace(io_lib:format("error ~p:~p ~0p", [C, E, St]), "\n", " ", all)
                    end,
            gen_tcp:send(S, [Reply, $\n]),
            loop(S);
        {error, _} -> ok
    end.

%% ping: ready once the c2s, MUC and MAM modules are up.
command([<<"ping">>, Host]) ->
    Ready = whereis(ejabberd_sm) =/= undefined andalso gen_mod:is_loaded(Host, mod_muc)
        andalso gen_mod:is_loaded(Host, mod_mam) andalso gen_mod:is_loaded(Host, mod_muc_admin),
    {ok, Vsn} = application:get_key(ejabberd, vsn),
    case Ready of true -> ["ok ", Vsn]; false -> "wait" end;
%% register Prefix From N Password Host: accounts Prefix<From>..Prefix<From+N-1>, in parallel
%% batches (each registration is one mnesia transaction).
command([<<"register">>, Prefix, From, N, Pass, Host]) ->
    F = binary_to_integer(From), Count = binary_to_integer(N),
    Parts = 8,
    Me = self(),
    Pids = [spawn_link(fun() ->
                [ok = reg(<<Prefix/binary, (integer_to_binary(I))/binary>>, Host, Pass)
                 || I <- lists:seq(F + K, F + Count - 1, Parts)],
                Me ! {done, self()}
            end) || K <- lists:seq(0, Parts - 1)],
    [receive {done, P} -> ok end || P <- Pids],
    "ok";
%% room Name MucHost Owner@Host: a persistent public room with MAM, owned by Owner.
command([<<"room">>, Name, MucHost, Host, Owner]) ->
    Opts = [{<<"persistent">>, <<"true">>}, {<<"public">>, <<"true">>}, {<<"mam">>, <<"true">>},
            {<<"max_users">>, <<"1000000">>}, {<<"members_only">>, <<"false">>}],
    ok = mod_muc_admin:create_room_with_opts(Name, MucHost, Host, Opts),
    ok = mod_muc_admin:set_room_affiliation(Name, MucHost, Owner, <<"owner">>),
    "ok";
%% seed Room MucHost Path StartMicros Sender Nick: one archive record per line of Path (the body),
%% shaped like the records mod_mam_mnesia writes for a live groupchat message of Sender (a full
%% JID) under Nick; ids StartMicros, StartMicros+1, ... (mod_mam uses the microsecond time as id).
command([<<"seed">>, Room, MucHost, Path, Start, Sender, Nick]) ->
    {ok, Bin} = file:read_file(Path),
    Lines = binary:split(Bin, <<"\n">>, [global, trim_all]),
    T0 = binary_to_integer(Start),
    RoomJid = <<Room/binary, "@", MucHost/binary>>,
    SenderJid = jid:decode(Sender),
    Ctx = {{Room, MucHost}, RoomJid, Sender, Nick, jid:tolower(SenderJid),
           jid:tolower(jid:remove_resource(SenderJid))},
    seed(Lines, T0, Ctx),
    ["ok ", integer_to_binary(length(Lines))];
command([<<"count">>, Room, MucHost]) ->
    integer_to_binary(length(mnesia:dirty_read(archive_msg, {Room, MucHost})));
command([<<"size">>]) ->
    integer_to_binary(mnesia:table_info(archive_msg, memory));
command([<<"stop">>]) ->
    spawn(fun() -> timer:sleep(100), init:stop() end),
    "ok";
command(Other) ->
    io_lib:format("error unknown ~p", [Other]).

reg(U, Host, Pass) ->
    case ejabberd_auth:try_register(U, Host, Pass) of
        ok -> ok;
        {error, exists} -> ok;
        E -> E
    end.

seed([], _, _) -> ok;
seed([Body | Rest], T, {US, RoomJid, Sender, Nick, Peer, BarePeer} = Ctx) ->
    Id = integer_to_binary(T),
    Packet = {xmlel, <<"message">>,
              [{<<"xml:lang">>, <<"en">>}, {<<"to">>, RoomJid}, {<<"from">>, Sender},
               {<<"type">>, <<"groupchat">>}, {<<"id">>, Id}, {<<"xmlns">>, <<"jabber:client">>}],
              [{xmlel, <<"body">>, [], [{xmlcdata, Body}]}]},
    Ts = {T div 1000000000000, (T div 1000000) rem 1000000, T rem 1000000},
    mnesia:dirty_write({archive_msg, US, Id, Ts, Peer, BarePeer, Packet, Nick, groupchat}),
    seed(Rest, T + 1, Ctx).
