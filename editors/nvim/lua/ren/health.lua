--- :checkhealth ren — Neovim, the ren-lsp executable, the API key (never shown), and whether the
--- server starts and answers `initialize`.
local M = {}

local health = vim.health

local function neovim()
  health.start('ren: Neovim')
  local v = vim.version()
  local version = ('%d.%d.%d'):format(v.major, v.minor, v.patch)
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok(('Neovim %s: vim.lsp.enable("ren") uses lsp/ren.lua'):format(version))
    if vim.lsp.is_enabled and not vim.lsp.is_enabled('ren') then
      health.info('ren is not enabled yet: add vim.lsp.enable("ren") (or require("ren").setup())')
    end
  elseif vim.fn.has('nvim-0.10') == 1 then
    health.ok(('Neovim %s: require("ren").setup() starts ren-lsp with vim.lsp.start'):format(
      version))
  else
    health.error(('Neovim %s is too old'):format(version), { 'Use Neovim 0.10 or newer.' })
  end
end

--- The executable, or nil (reported).
local function executable(config)
  health.start('ren: ren-lsp executable')
  local cmd = config.cmd
  if type(cmd) ~= 'table' or not cmd[1] then
    health.info('cmd is not a list (a function or a TCP connection): not checked')
    return nil
  end
  local path = vim.fn.exepath(cmd[1])
  if path == '' then
    health.error(('`%s` was not found on PATH'):format(cmd[1]), {
      'Install it from a ren-lsp checkout: pipx install . (or uv tool install .);'
        .. ' from a built wheel: pipx install ./dist/ren_lsp-<version>-py3-none-any.whl.',
      "Or give its path: vim.lsp.config('ren', { cmd = { '/path/to/ren-lsp' } }).",
    })
    return nil
  end
  local ok, result = pcall(function()
    return vim.system({ path, '--version' }, { text = true, env = config.cmd_env }):wait(15000)
  end)
  if ok and result.code == 0 then
    health.ok(('%s (%s)'):format(path, vim.trim(result.stdout or '')))
  else
    health.warn(('%s does not answer --version'):format(path),
      { 'Reinstall ren-lsp; run `ren-lsp --version` in a shell to see why.' })
  end
  return path
end

local function config_file()
  local env = vim.env.REN_CONFIG
  if env and env ~= '' then
    return env
  end
  local base = vim.env.XDG_CONFIG_HOME
  if not base or base == '' then
    base = vim.fs.joinpath(vim.env.HOME or vim.uv.os_homedir(), '.config')
  end
  return vim.fs.joinpath(base, 'ren-lsp', 'config.toml')
end

--- Where the key comes from, never the key itself.
local function key(config)
  health.start('ren: API key')
  local settings = vim.tbl_get(config, 'settings', 'ren') or config.settings or {}
  local init = type(config.init_options) == 'table' and config.init_options or {}
  local env = config.cmd_env or {}
  local found = {}
  if (vim.env.REN_API_KEY or '') ~= '' then
    table.insert(found, 'REN_API_KEY is set in the environment ren-lsp inherits')
  end
  if (env.REN_API_KEY or '') ~= '' then
    table.insert(found, 'REN_API_KEY is set by cmd_env')
  end
  if settings.apiKeyCommand or init.apiKeyCommand then
    table.insert(found, 'apiKeyCommand is set in the editor settings')
  end
  if settings.apiKey or init.apiKey then
    health.warn('apiKey is set in your Neovim config: the key sits in a file there',
      { 'Prefer REN_API_KEY in your environment, or apiKeyCommand.' })
    table.insert(found, 'apiKey is set in the editor settings')
  end
  local path = config_file()
  local file = io.open(path, 'r')
  if file then
    for line in file:lines() do
      local name = line:match('^%s*(apiKeyCommand)%s*=') or line:match('^%s*(apiKey)%s*=')
      if name then
        table.insert(found, ('%s is set in %s'):format(name, path))
      end
    end
    file:close()
  end
  if #found == 0 then
    health.error('No Ren API key: ren-lsp cannot ask Astra', {
      'export REN_API_KEY=… in the shell you start Neovim from,',
      'or set apiKeyCommand (e.g. "pass show ren/api-key") in ' .. path .. '.',
      'Then run `ren-lsp doctor` to check the key against the Ren API.',
    })
    return
  end
  for _, where in ipairs(found) do
    health.ok(where)
  end
end

--- Start the server as the client would, `initialize`, then shut it down.
local function starts(config, path)
  health.start('ren: server start')
  if not path then
    health.info('skipped: no executable')
    return
  end
  local cmd = vim.deepcopy(config.cmd)
  cmd[1] = path
  local done, answer, failure, stderr = false, nil, nil, {}
  local started = vim.uv.hrtime()
  local ok, rpc = pcall(vim.lsp.rpc.start, cmd, {
    on_error = function(code, err)
      failure = failure or ('RPC error %s: %s'):format(code, vim.inspect(err))
    end,
    on_exit = function(code)
      if not done then
        failure = failure or ('exited with code %d before answering'):format(code)
        done = true
      end
    end,
  }, { cwd = vim.uv.cwd(), env = config.cmd_env })
  if not ok then
    health.error(('could not start %s: %s'):format(table.concat(cmd, ' '), rpc))
    return
  end
  rpc.request('initialize', {
    processId = vim.uv.os_getpid(),
    rootUri = vim.NIL,
    capabilities = vim.lsp.protocol.make_client_capabilities(),
    initializationOptions = config.init_options,
    clientInfo = { name = 'Neovim :checkhealth ren' },
  }, function(err, result)
    if err then
      failure = ('initialize failed: %s'):format(err.message or vim.inspect(err))
    else
      answer = result
    end
    done = true
  end)
  local finished = vim.wait(20000, function()
    return done
  end, 20)
  local elapsed = (vim.uv.hrtime() - started) / 1e6
  if answer then
    rpc.request('shutdown', nil, function()
      rpc.notify('exit')
    end)
    vim.wait(3000, function()
      return rpc.is_closing()
    end, 20)
  end
  if not rpc.is_closing() then
    rpc.terminate()
  end
  if not finished then
    health.error('ren-lsp did not answer initialize within 20 s', {
      'Run `ren-lsp doctor` in a shell; see the log with :LspLog.',
    })
    return
  end
  if failure or not answer then
    health.error(('ren-lsp did not start: %s'):format(failure or 'no answer'), {
      'Run `ren-lsp doctor` in a shell; see the log with :LspLog.',
    })
    return
  end
  local info = answer.serverInfo or {}
  local provider = vim.tbl_get(answer, 'capabilities', 'executeCommandProvider', 'commands') or {}
  if not vim.tbl_contains(provider, 'ren.explain') then
    health.error(('%s answered, but offers no ren.* commands'):format(info.name or 'the server'))
    return
  end
  health.ok(('%s %s answered initialize in %d ms; commands: %s'):format(info.name or 'ren-lsp',
    info.version or '', elapsed, table.concat(provider, ', ')))
end

local function clients()
  local running = vim.lsp.get_clients({ name = 'ren' })
  if #running == 0 then
    return
  end
  health.start('ren: running clients')
  for _, client in ipairs(running) do
    local folders = vim.tbl_map(function(f)
      return f.name
    end, client.workspace_folders or {})
    health.info(('client %d: position encoding %s, workspace %s, %d buffer(s)'):format(client.id,
      client.offset_encoding, #folders > 0 and table.concat(folders, ', ') or '(none)',
      vim.tbl_count(client.attached_buffers or {})))
  end
end

function M.check()
  neovim()
  local config = require('ren').resolved_config()
  local path = executable(config)
  key(config)
  starts(config, path)
  clients()
end

return M
